/**
 * The SAML parts of a connection page: the SP values the admin copies into the IdP, the
 * IdP-initiated switch (owners only; off by default because it allows login CSRF), and the IdP's
 * signing certificates (SHA-256 fingerprint, subject, expiry; a warning under 30 days) with add and
 * remove for rotation. Every change is sensitive (`withReauth`).
 */
import { useId, useState } from 'react'
import { toast } from 'sonner'
import { describeFormError } from '../../../lib/form-errors'
import { trpc } from '../../../lib/trpc'
import { useCan } from '../../../lib/use-can'
import { LocalTime } from '../../local-time'
import { useReauth } from '../../reauth-provider'
import { Alert } from '../../ui/alert'
import { Badge } from '../../ui/badge'
import { Button } from '../../ui/button'
import { Card } from '../../ui/card'
import { ConfirmActionDialog } from '../../ui/confirm-dialog'
import { CopyField } from '../../ui/copy-field'
import type { ConnectionView } from './connection-form'

type SamlView = NonNullable<ConnectionView['saml']>

export function SamlServiceProviderCard({ connection, onChanged }: { connection: ConnectionView; onChanged: () => void }) {
  const saml: SamlView = connection.saml!
  return (
    <Card title="Register at your identity provider" description="Create a SAML application at the IdP with these values, or give it the metadata URL.">
      <div className="flex flex-col gap-4">
        <CopyField label="SP entity ID (audience)" value={saml.spEntityId} />
        <CopyField label="ACS URL (HTTP-POST)" value={saml.acsUrl} />
        <CopyField label="SP metadata URL" value={saml.metadataUrl} />
        <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[12rem_minmax(0,1fr)]">
          <dt className="text-slate-500">IdP entity ID</dt>
          <dd className="break-all font-mono text-slate-900">{saml.idpEntityId}</dd>
          <dt className="text-slate-500">IdP SSO URL</dt>
          <dd className="break-all font-mono text-slate-900">{saml.idpSsoUrl}</dd>
          <dt className="text-slate-500">IdP-initiated login</dt>
          <dd className="text-slate-900" data-testid="saml-idp-initiated">
            {saml.isIdpInitiatedAllowed
              ? 'On (responses the IdP sends unasked are accepted; see the warning below)'
              : 'Off (responses must answer a request this app made; this prevents login CSRF)'}
          </dd>
        </dl>
        <IdpInitiatedSwitch connection={connection} onChanged={onChanged} />
      </div>
    </Card>
  )
}

/**
 * Owners only (the server's `ownerSensitiveProcedure` decides; this only hides the button). An
 * unsolicited response has no request and no browser binding, so anyone holding a valid response
 * for *their own* account can post it into a victim's browser and sign the victim in as themselves
 * (login CSRF): the confirmation says so before the switch goes on.
 */
function IdpInitiatedSwitch({ connection, onChanged }: { connection: ConnectionView; onChanged: () => void }) {
  const isOwner = useCan('owner')
  const { withReauth } = useReauth()
  const setIdpInitiated = trpc.organization.sso.setIdpInitiated.useMutation()
  if (!isOwner) return null
  const isAllowed = connection.saml!.isIdpInitiatedAllowed

  async function change(next: boolean) {
    await withReauth(() => setIdpInitiated.mutateAsync({ connectionId: connection.id, isAllowed: next }))
    toast.success(next ? 'IdP-initiated login is on for this connection.' : 'IdP-initiated login is off: only sign-ins that start here are accepted.')
    onChanged()
  }

  if (isAllowed) {
    return (
      <div className="flex flex-col gap-2">
        <Alert tone="warning">
          While this is on, someone with an account at your IdP can sign another person’s browser into their own account (login CSRF). Turn it off unless your IdP’s portal needs it.
        </Alert>
        <div>
          <Button variant="secondary" isLoading={setIdpInitiated.isPending} onClick={() => void change(false).catch((error: unknown) => toast.error(describeFormError(error).message))}>
            Turn off IdP-initiated login
          </Button>
        </div>
      </div>
    )
  }
  return (
    <div>
      <ConfirmActionDialog
        trigger={<Button variant="secondary">Allow IdP-initiated login…</Button>}
        title="Allow IdP-initiated login?"
        description="Sign-ins started from the IdP’s portal will be accepted without a request from this app. Such a response is tied to no browser, so someone with an account at your IdP could sign another person’s browser into their own account (login CSRF). Sign-ins that start here stay protected."
        confirmLabel="Allow IdP-initiated login"
        isPending={setIdpInitiated.isPending}
        onConfirm={() => change(true)}
      />
    </div>
  )
}

export function SamlCertificatesCard({ connection, onChanged }: { connection: ConnectionView; onChanged: () => void }) {
  const saml = connection.saml!
  const { withReauth } = useReauth()
  const add = trpc.organization.sso.addSamlCertificate.useMutation()
  const remove = trpc.organization.sso.removeSamlCertificate.useMutation()
  const [pem, setPem] = useState('')
  const [error, setError] = useState<string | null>(null)
  const id = useId()

  async function addCertificate() {
    setError(null)
    try {
      await withReauth(() => add.mutateAsync({ connectionId: connection.id, certificate: pem }))
      setPem('')
      toast.success('Certificate added. Both certificates are accepted until you remove the old one.')
      onChanged()
    } catch (caught) {
      setError(describeFormError(caught).message)
    }
  }

  async function removeCertificate(fingerprintSha256: string) {
    try {
      await withReauth(() => remove.mutateAsync({ connectionId: connection.id, fingerprintSha256 }))
      toast.success('Certificate removed. Responses signed with it are refused from now on.')
      onChanged()
    } catch (caught) {
      toast.error(describeFormError(caught).message)
    }
  }

  return (
    <Card title="IdP signing certificates" description="Every certificate listed here is accepted. To rotate, add the new one, switch the IdP over, then remove the old one.">
      <ul className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Certificates">
        {saml.certificates.map((certificate) => (
          <li key={certificate.fingerprintSha256} className="flex flex-col gap-1 px-4 py-3 text-sm" data-testid="saml-certificate">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <span className="font-medium text-slate-900">{certificate.subject || 'Unreadable certificate'}</span>
              <span className="flex items-center gap-2">
                {certificate.isExpired ? <Badge tone="danger">Expired</Badge> : certificate.isExpiringSoon ? <Badge tone="warning">Expires soon</Badge> : <Badge tone="success">Valid</Badge>}
                {saml.certificates.length > 1 && (
                  <Button variant="ghost" aria-label={`Remove certificate ${certificate.fingerprintSha256}`} isLoading={remove.isPending} onClick={() => void removeCertificate(certificate.fingerprintSha256)}>
                    Remove
                  </Button>
                )}
              </span>
            </div>
            <span className="break-all font-mono text-xs text-slate-600">SHA-256 {certificate.fingerprintSha256}</span>
            {certificate.notAfter && (
              <span className="text-xs text-slate-600">
                Expires <LocalTime iso={certificate.notAfter} />
              </span>
            )}
            {certificate.isExpiringSoon && <Alert tone="warning">This certificate expires within 30 days. Add the IdP’s next certificate now, so sign-ins keep working.</Alert>}
          </li>
        ))}
      </ul>
      <div className="mt-4 flex flex-col gap-2">
        <label htmlFor={id} className="text-sm font-medium text-slate-800">
          Add a certificate (PEM)
        </label>
        <textarea
          id={id}
          rows={5}
          spellCheck={false}
          className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500"
          value={pem}
          onChange={(event) => setPem(event.target.value)}
        />
        <Alert>{error}</Alert>
        <div>
          <Button variant="secondary" isLoading={add.isPending} disabled={!pem.trim()} onClick={() => void addCertificate()}>
            Add certificate
          </Button>
        </div>
      </div>
    </Card>
  )
}
