/**
 * `/admin/sso`: the organization's identity-provider connections, forms for a new OIDC or SAML one, and
 * (for owners) the single sign-on policy.
 */
import { createFileRoute, Link, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import { toast } from 'sonner'
import { ConnectionForm } from '../../components/admin/sso/connection-form'
import { ConnectionStatusBadge } from '../../components/admin/sso/connection-status'
import { SamlConnectionForm } from '../../components/admin/sso/saml-connection-form'
import { SsoPolicyCard } from '../../components/admin/sso/sso-policy-card'
import { PageHeader } from '../../components/page-header'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { Spinner } from '../../components/ui/spinner'
import { describeFormError } from '../../lib/form-errors'
import { trpc } from '../../lib/trpc'

export const Route = createFileRoute('/_authed/admin/sso/')({
  loader: ({ context }) =>
    Promise.all([
      context.trpcUtils.organization.sso.list.ensureData(),
      context.trpcUtils.organization.getSsoPolicy.ensureData(),
      context.trpcUtils.admin.users.list.ensureData(),
    ]),
  head: () => ({ meta: [{ title: 'Single sign-on · Admin · Gatehouse' }] }),
  component: SsoPage,
})

function SsoPage() {
  const connections = trpc.organization.sso.list.useQuery()
  const [creating, setCreating] = useState<'oidc' | 'saml' | null>(null)
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Single sign-on" description="Connect your identity provider, test it, then send your verified domains’ sign-ins to it.">
        {!creating && (
          <div className="flex flex-wrap gap-2">
            <Button onClick={() => setCreating('oidc')}>New OIDC connection</Button>
            <Button variant="secondary" onClick={() => setCreating('saml')}>
              New SAML connection
            </Button>
          </div>
        )}
      </PageHeader>
      {creating === 'oidc' && (
        <Card title="New OIDC connection" description="It starts as a draft: nobody signs in through it until it passes a test sign-in and you enable it." actions={<Button variant="ghost" onClick={() => setCreating(null)}>Cancel</Button>}>
          <CreateConnectionForm />
        </Card>
      )}
      {creating === 'saml' && (
        <Card title="New SAML connection" description="It starts as a draft: nobody signs in through it until it passes a test sign-in and you enable it." actions={<Button variant="ghost" onClick={() => setCreating(null)}>Cancel</Button>}>
          <CreateSamlConnectionForm />
        </Card>
      )}
      <Card title="Connections">
        {connections.data ? (
          connections.data.length === 0 ? (
            <p className="text-sm text-slate-600">No connections yet. Create one to let your people sign in with your identity provider.</p>
          ) : (
            <ul className="-my-3 flex flex-col divide-y divide-slate-100" aria-label="Connections">
              {connections.data.map((connection) => (
                <li key={connection.id} className="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="connection-row">
                  <div className="min-w-0">
                    <Link to="/admin/sso/$connectionId" params={{ connectionId: connection.id }} className="font-medium text-indigo-700 underline-offset-2 hover:underline">
                      {connection.displayName}
                    </Link>
                    <p className="truncate text-sm text-slate-500">
                      {connection.protocol.toUpperCase()} · {connection.issuer ?? connection.saml?.idpEntityId}
                    </p>
                  </div>
                  <ConnectionStatusBadge connection={connection} />
                </li>
              ))}
            </ul>
          )
        ) : connections.isError ? (
          <Alert>{describeFormError(connections.error).message}</Alert>
        ) : (
          <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
            <Spinner /> Loading connections…
          </p>
        )}
      </Card>
      <SsoPolicyCard />
    </div>
  )
}

function CreateConnectionForm() {
  const utils = trpc.useUtils()
  const navigate = useNavigate()
  const createOidc = trpc.organization.sso.createOidc.useMutation()
  return (
    <ConnectionForm
      connection={null}
      submitLabel="Create connection"
      isPending={createOidc.isPending}
      onSubmit={async (settings) => {
        // An empty secret goes to the server, whose validation marks the field.
        const created = await createOidc.mutateAsync({ ...settings, clientSecret: settings.clientSecret ?? '' })
        toast.success(`${created.displayName} created. Register its redirect URI at your identity provider, then test it.`)
        void utils.organization.sso.list.invalidate()
        void utils.admin.audit.list.invalidate()
        await navigate({ to: '/admin/sso/$connectionId', params: { connectionId: created.id } })
      }}
    />
  )
}

function CreateSamlConnectionForm() {
  const utils = trpc.useUtils()
  const navigate = useNavigate()
  const createSaml = trpc.organization.sso.createSaml.useMutation()
  return (
    <SamlConnectionForm
      connection={null}
      submitLabel="Create connection"
      isPending={createSaml.isPending}
      onSubmit={async ({ idp, ...settings }) => {
        if (!idp) return
        const created = await createSaml.mutateAsync({ ...settings, idp })
        toast.success(`${created.displayName} created. Register its SP values at your identity provider, then test it.`)
        if (created.wantsAuthnRequestsSigned) toast.warning('The IdP asks for signed AuthnRequests, which Gatehouse does not send. Relax that setting at the IdP.')
        void utils.organization.sso.list.invalidate()
        void utils.admin.audit.list.invalidate()
        await navigate({ to: '/admin/sso/$connectionId', params: { connectionId: created.id } })
      }}
    />
  )
}
