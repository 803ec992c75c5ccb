/**
 * The settings of a SAML connection, for creating one and for editing it (issue 10, item 5). The
 * IdP side comes from its metadata (a URL the server fetches through the outbound guard, or a
 * document pasted or uploaded here) or is typed by hand (entity ID, SSO URL, certificate). When
 * editing, the IdP side is kept unless the admin chooses to replace it; certificates rotate on the
 * connection page. Saving is sensitive (`withReauth`), and after any change the connection needs a
 * passing test sign-in before it can be enabled again. IdP-initiated login is never switched on here.
 */
import { useId, useState, type ChangeEvent, type FormEvent } from 'react'
import { describeFormError, NO_FORM_ERROR } from '../../../lib/form-errors'
import { getAssignableRoles } from '../../../lib/member-permissions'
import type { RouterInputs } from '../../../lib/trpc'
import { useSignedInViewer } from '../../../lib/use-viewer'
import { useReauth } from '../../reauth-provider'
import { Alert } from '../../ui/alert'
import { Button } from '../../ui/button'
import { TextField } from '../../ui/text-field'
import type { ConnectionView } from './connection-form'
import { FormSection, parseValueList, RolesSection, SELECT_CLASS } from './connection-form-parts'
import { fromRoleMapRows, toRoleMapRows, type RoleMapRow } from './role-map-editor'

export type SamlSettings = RouterInputs['organization']['sso']['createSaml']
type IdpSource = SamlSettings['idp']
type NameIdFormat = NonNullable<SamlSettings['nameIdFormat']>

const TEXTAREA_CLASS =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500'

const NAME_ID_FORMATS: Array<{ value: NameIdFormat; label: string }> = [
  { value: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', label: 'Persistent (recommended)' },
  { value: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', label: 'Email address (the email becomes the key)' },
  { value: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', label: 'Unspecified' },
]

type SourceKind = IdpSource['kind'] | 'keep'

type FormState = {
  displayName: string
  source: SourceKind
  metadataUrl: string
  metadataXml: string
  entityIdChoice: string
  idpEntityId: string
  idpSsoUrl: string
  certificate: string
  nameIdFormat: NameIdFormat
  emailAttribute: string
  nameAttribute: string
  groupsAttribute: string
  amrAttribute: string
  wantAssertionsSigned: boolean
  wantAuthnResponseSigned: boolean
  roleMap: RoleMapRow[]
  defaultRole: string
  mfaAcrValues: string
  mfaAmrValues: string
}

function initialState(connection: ConnectionView | null): FormState {
  const saml = connection?.saml ?? null
  return {
    displayName: connection?.displayName ?? '',
    source: connection ? 'keep' : 'metadata_url',
    metadataUrl: '',
    metadataXml: '',
    entityIdChoice: '',
    idpEntityId: saml?.idpEntityId ?? '',
    idpSsoUrl: saml?.idpSsoUrl ?? '',
    certificate: '',
    nameIdFormat: (saml?.nameIdFormat as NameIdFormat | undefined) ?? 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    emailAttribute: saml?.emailAttribute ?? '',
    nameAttribute: saml?.nameAttribute ?? '',
    groupsAttribute: saml?.groupsAttribute ?? '',
    amrAttribute: saml?.amrAttribute ?? '',
    wantAssertionsSigned: saml?.wantAssertionsSigned ?? true,
    wantAuthnResponseSigned: saml?.wantAuthnResponseSigned ?? true,
    roleMap: toRoleMapRows(connection?.groupRoleMap ?? {}),
    defaultRole: connection?.defaultRole ?? 'member',
    mfaAcrValues: (connection?.mfaAcrValues ?? []).join(', '),
    mfaAmrValues: (connection?.mfaAmrValues ?? []).join(', '),
  }
}


function toIdpSource(state: FormState): IdpSource | undefined {
  const entityId = state.entityIdChoice.trim() || undefined
  if (state.source === 'metadata_url') return { kind: 'metadata_url', url: state.metadataUrl.trim(), entityId }
  if (state.source === 'metadata_xml') return { kind: 'metadata_xml', xml: state.metadataXml, entityId }
  if (state.source === 'manual') return { kind: 'manual', entityId: state.idpEntityId.trim(), ssoUrl: state.idpSsoUrl.trim(), certificates: [state.certificate] }
  return undefined
}

function toSettings(state: FormState): Omit<SamlSettings, 'idp'> & { idp?: IdpSource } {
  return {
    displayName: state.displayName,
    idp: toIdpSource(state),
    nameIdFormat: state.nameIdFormat,
    // Empty means "the defaults" (email, mail, the OID and claim URIs…).
    emailAttribute: state.emailAttribute.trim() || null,
    nameAttribute: state.nameAttribute.trim() || null,
    groupsAttribute: state.groupsAttribute.trim() || null,
    amrAttribute: state.amrAttribute.trim() || null,
    wantAssertionsSigned: state.wantAssertionsSigned,
    wantAuthnResponseSigned: state.wantAuthnResponseSigned,
    groupRoleMap: fromRoleMapRows(state.roleMap) as SamlSettings['groupRoleMap'],
    defaultRole: state.defaultRole as SamlSettings['defaultRole'],
    mfaAcrValues: parseValueList(state.mfaAcrValues),
    mfaAmrValues: parseValueList(state.mfaAmrValues),
  }
}


function TextArea({ label, hint, value, onChange, error, rows = 6 }: { label: string; hint?: string; value: string; onChange: (value: string) => void; error?: string | null; rows?: number }) {
  const id = useId()
  return (
    <div className="flex flex-col gap-1.5 text-sm">
      <label htmlFor={id} className="font-medium text-slate-800">
        {label}
      </label>
      <textarea id={id} rows={rows} spellCheck={false} className={TEXTAREA_CLASS} value={value} onChange={(event) => onChange(event.target.value)} aria-invalid={error ? true : undefined} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint && (
        <p id={`${id}-hint`} className="text-xs text-slate-500">
          {hint}
        </p>
      )}
      {error && <p className="text-sm text-red-700">{error}</p>}
    </div>
  )
}

export function SamlConnectionForm({ connection, submitLabel, isPending, onSubmit }: {
  /** Null to create a connection. */
  connection: ConnectionView | null
  submitLabel: string
  isPending: boolean
  onSubmit: (settings: ReturnType<typeof toSettings>) => Promise<void>
}) {
  const viewer = useSignedInViewer()
  const { withReauth } = useReauth()
  const assignableRoles = getAssignableRoles(viewer.user.role)
  const id = useId()
  const [state, setState] = useState(() => initialState(connection))
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const set = (change: Partial<FormState>) => setState((current) => ({ ...current, ...change }))
  const field = (name: string) => formError.fields[name] ?? null
  const sources: Array<{ value: SourceKind; label: string }> = [
    ...(connection ? [{ value: 'keep' as const, label: 'Keep the current IdP settings' }] : []),
    { value: 'metadata_url', label: 'From a metadata URL' },
    { value: 'metadata_xml', label: 'From metadata XML (paste or upload)' },
    { value: 'manual', label: 'Enter by hand' },
  ]

  async function readUpload(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0]
    if (file) set({ metadataXml: await file.text() })
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await withReauth(() => onSubmit(toSettings(state)))
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  return (
    <form className="flex flex-col gap-6" onSubmit={submit} noValidate aria-label={connection ? 'SAML connection settings' : 'New SAML connection'}>
      <Alert>{formError.message}</Alert>
      <FormSection title="Identity provider">
        <TextField label="Name" hint="Shown to people on the sign-in button: “Continue with …”." required value={state.displayName} onChange={(event) => set({ displayName: event.target.value })} error={field('displayName')} />
        <div className="flex flex-col gap-2 text-sm" role="radiogroup" aria-label="IdP settings from">
          <span className="font-medium text-slate-800">IdP settings from</span>
          <div className="flex flex-wrap gap-4">
            {sources.map((source) => (
              <label key={source.value} className="flex items-center gap-2 text-slate-700">
                <input type="radio" name={`${id}-source`} value={source.value} checked={state.source === source.value} onChange={() => set({ source: source.value })} />
                {source.label}
              </label>
            ))}
          </div>
        </div>
        {state.source === 'metadata_url' && (
          <TextField label="Metadata URL" type="url" placeholder="https://idp.example.com/metadata" hint="Fetched once now (https, public addresses only); the entity ID, SSO URL and signing certificates are read from it." required value={state.metadataUrl} onChange={(event) => set({ metadataUrl: event.target.value })} spellCheck={false} />
        )}
        {state.source === 'metadata_xml' && (
          <>
            <TextArea label="Metadata XML" hint="Paste the IdP’s metadata document, or upload it below. Documents with a DTD are refused." value={state.metadataXml} onChange={(metadataXml) => set({ metadataXml })} />
            <label className="flex flex-col gap-1.5 text-sm">
              <span className="font-medium text-slate-800">Upload metadata file</span>
              <input type="file" accept=".xml,application/xml,text/xml,application/samlmetadata+xml" onChange={(event) => void readUpload(event)} className="text-sm" />
            </label>
          </>
        )}
        {field('idp') && (
          // The IdP source is one nested input: its first problem is said once, next to the fields it concerns.
          <p className="text-sm text-red-700" data-testid="idp-source-error">
            {field('idp')}
          </p>
        )}
        {(state.source === 'metadata_url' || state.source === 'metadata_xml') && (
          <TextField label="Entity ID to use (optional)" hint="Only when the metadata lists several identity providers." value={state.entityIdChoice} onChange={(event) => set({ entityIdChoice: event.target.value })} spellCheck={false} />
        )}
        {state.source === 'manual' && (
          <>
            <div className="grid gap-4 sm:grid-cols-2">
              <TextField label="IdP entity ID" required value={state.idpEntityId} onChange={(event) => set({ idpEntityId: event.target.value })} spellCheck={false} />
              <TextField label="SSO URL (HTTP-Redirect)" type="url" required value={state.idpSsoUrl} onChange={(event) => set({ idpSsoUrl: event.target.value })} spellCheck={false} />
            </div>
            <TextArea label="Signing certificate (PEM)" hint="-----BEGIN CERTIFICATE----- … More can be added later for rotation." value={state.certificate} onChange={(certificate) => set({ certificate })} />
          </>
        )}
      </FormSection>
      <FormSection title="Subject and attributes">
        <div className="flex max-w-md flex-col gap-1.5 text-sm">
          <label htmlFor={`${id}-nameid`} className="font-medium text-slate-800">
            NameID format
          </label>
          <select id={`${id}-nameid`} className={SELECT_CLASS} value={state.nameIdFormat} onChange={(event) => set({ nameIdFormat: event.target.value as NameIdFormat })}>
            {NAME_ID_FORMATS.map((format) => (
              <option key={format.value} value={format.value}>
                {format.label}
              </option>
            ))}
          </select>
          <span className="text-xs text-slate-500">The NameID is the identity’s key. With an email-address NameID, a change of email at the IdP becomes a new identity.</span>
        </div>
        <p className="text-xs text-slate-500">Leave an attribute empty to use the common names (email: email, mail, the LDAP OID and the Microsoft claim URI; name: displayName, name…; groups: groups, memberOf…).</p>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Email attribute" value={state.emailAttribute} onChange={(event) => set({ emailAttribute: event.target.value })} error={field('emailAttribute')} spellCheck={false} />
          <TextField label="Name attribute" value={state.nameAttribute} onChange={(event) => set({ nameAttribute: event.target.value })} error={field('nameAttribute')} spellCheck={false} />
          <TextField label="Groups attribute" value={state.groupsAttribute} onChange={(event) => set({ groupsAttribute: event.target.value })} error={field('groupsAttribute')} spellCheck={false} />
          <TextField label="Authentication-methods attribute (amr)" hint="Optional; an attribute listing how the IdP authenticated the user." value={state.amrAttribute} onChange={(event) => set({ amrAttribute: event.target.value })} error={field('amrAttribute')} spellCheck={false} />
        </div>
      </FormSection>
      <FormSection title="Signatures">
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input type="checkbox" checked={state.wantAuthnResponseSigned} onChange={(event) => set({ wantAuthnResponseSigned: event.target.checked })} />
          Require a signed Response
        </label>
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input type="checkbox" checked={state.wantAssertionsSigned} onChange={(event) => set({ wantAssertionsSigned: event.target.checked })} />
          Require a signed Assertion
        </label>
        {!state.wantAssertionsSigned && !state.wantAuthnResponseSigned && <Alert>At least one of the two must be signed: an unsigned response is anyone’s.</Alert>}
      </FormSection>
      <RolesSection id={id} roleMap={state.roleMap} defaultRole={state.defaultRole} assignableRoles={assignableRoles} onChange={set} />
      <FormSection title="Multi-factor authentication at the IdP">
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="MFA AuthnContextClassRef values" hint="An AuthnContextClassRef equal to any of these counts as MFA." value={state.mfaAcrValues} onChange={(event) => set({ mfaAcrValues: event.target.value })} error={field('mfaAcrValues')} spellCheck={false} />
          <TextField label="MFA amr values" hint="Values of the amr attribute above that count as MFA." value={state.mfaAmrValues} onChange={(event) => set({ mfaAmrValues: event.target.value })} error={field('mfaAmrValues')} spellCheck={false} />
        </div>
      </FormSection>
      <div>
        <Button type="submit" isLoading={isPending}>
          {submitLabel}
        </Button>
      </div>
    </form>
  )
}
