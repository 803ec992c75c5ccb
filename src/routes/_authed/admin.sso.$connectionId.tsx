/**
 * `/admin/sso/$connectionId`: one connection — the redirect URI to register at the IdP, the
 * connection doctor ("Test sign-in" and its latest result), enable/disable (enabling only after a
 * passing test since the last change), the settings, and deletion. The doctor's callback comes
 * back here with `?test=done`.
 */
import { createFileRoute, useNavigate } from '@tanstack/react-router'
import { useEffect, useId } from 'react'
import { toast } from 'sonner'
import { ConnectionForm, type ConnectionView } from '../../components/admin/sso/connection-form'
import { ConnectionStatusBadge } from '../../components/admin/sso/connection-status'
import { DoctorResult } from '../../components/admin/sso/doctor-result'
import { SamlConnectionForm } from '../../components/admin/sso/saml-connection-form'
import { SamlCertificatesCard, SamlServiceProviderCard } from '../../components/admin/sso/saml-service-provider-card'
import { PageHeader } from '../../components/page-header'
import { useReauth } from '../../components/reauth-provider'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { ConfirmActionDialog } from '../../components/ui/confirm-dialog'
import { CopyField } from '../../components/ui/copy-field'
import { Spinner } from '../../components/ui/spinner'
import { describeFormError } from '../../lib/form-errors'
import { getSsoConnectionChangeRefusal } from '../../lib/member-permissions'
import { trpc } from '../../lib/trpc'
import { useSignedInViewer } from '../../lib/use-viewer'

export const Route = createFileRoute('/_authed/admin/sso/$connectionId')({
  validateSearch: (search: Record<string, unknown>): { test?: 'done' } => (search.test === 'done' ? { test: 'done' } : {}),
  loader: ({ context, params }) => context.trpcUtils.organization.sso.get.ensureData({ connectionId: params.connectionId }),
  head: () => ({ meta: [{ title: 'Connection · Single sign-on · Admin · Gatehouse' }] }),
  component: ConnectionPage,
})

function ConnectionPage() {
  const { connectionId } = Route.useParams()
  const connection = trpc.organization.sso.get.useQuery({ connectionId })
  if (connection.isError) return <Alert>{describeFormError(connection.error).message}</Alert>
  if (!connection.data) {
    return (
      <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
        <Spinner /> Loading connection…
      </p>
    )
  }
  return <ConnectionDetails connection={connection.data} />
}

/** Refreshes what a change to a connection affects: itself, the list, and the audit log. */
function useRefreshConnection() {
  const utils = trpc.useUtils()
  return () => {
    void utils.organization.sso.get.invalidate()
    void utils.organization.sso.list.invalidate()
    void utils.admin.audit.list.invalidate()
  }
}

function ConnectionDetails({ connection }: { connection: ConnectionView }) {
  const refresh = useRefreshConnection()
  const update = trpc.organization.sso.update.useMutation()
  const updateSaml = trpc.organization.sso.updateSaml.useMutation()
  // The server refuses these changes too; the console does not offer what it would refuse.
  const changeRefusal = getSsoConnectionChangeRefusal(useSignedInViewer().user.role, connection)
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title={connection.displayName} description={`${connection.protocol.toUpperCase()} connection · ${connection.issuer ?? connection.saml?.idpEntityId ?? ''}`}>
        <ConnectionStatusBadge connection={connection} />
      </PageHeader>
      {connection.saml ? (
        <SamlServiceProviderCard connection={connection} onChanged={refresh} />
      ) : (
        <Card title="Register at your identity provider" description="Add this redirect URI to the application you created at the IdP, exactly as shown.">
          <CopyField label="Redirect URI" value={connection.redirectUri ?? ''} />
        </Card>
      )}
      {changeRefusal && <Alert tone="info">{changeRefusal}</Alert>}
      {connection.saml && !changeRefusal && <SamlCertificatesCard connection={connection} onChanged={refresh} />}
      {!changeRefusal && <TestCard connection={connection} />}
      {!changeRefusal && <StatusCard connection={connection} />}
      {!changeRefusal && (
        <Card title="Settings" description="Any change needs a new passing test sign-in before the connection can be enabled again.">
          {connection.saml ? (
            <SamlConnectionForm
              key={connection.updatedAt}
              connection={connection}
              submitLabel="Save changes"
              isPending={updateSaml.isPending}
              onSubmit={async (settings) => {
                await updateSaml.mutateAsync({ ...settings, connectionId: connection.id })
                toast.success('Connection saved. Run a test sign-in again before enabling it.')
                refresh()
              }}
            />
          ) : (
            <ConnectionForm
              key={connection.updatedAt}
              connection={connection}
              submitLabel="Save changes"
              isPending={update.isPending}
              onSubmit={async (settings) => {
                await update.mutateAsync({ ...settings, connectionId: connection.id })
                toast.success('Connection saved. Run a test sign-in again before enabling it.')
                refresh()
              }}
            />
          )}
        </Card>
      )}
      {!changeRefusal && <DeleteCard connection={connection} />}
    </div>
  )
}

/** The doctor: "Test sign-in" goes to the IdP in this tab; the callback brings the admin back with the result. */
function TestCard({ connection }: { connection: ConnectionView }) {
  const { test } = Route.useSearch()
  const navigate = useNavigate()
  const utils = trpc.useUtils()
  const startTest = trpc.organization.sso.startTest.useMutation()

  useEffect(() => {
    if (test !== 'done') return
    void utils.organization.sso.get.invalidate({ connectionId: connection.id })
    toast.info('Test sign-in finished. The result is below.', { id: 'sso-test-done' })
    // Drop `?test=done`, so a reload does not announce it again.
    void navigate({ to: '/admin/sso/$connectionId', params: { connectionId: connection.id }, search: {}, replace: true })
  }, [test, connection.id, navigate, utils])

  async function start() {
    try {
      const { url } = await startTest.mutateAsync({ connectionId: connection.id })
      window.location.assign(url)
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  return (
    <Card
      title="Test sign-in"
      description="Sign in at the identity provider as yourself. Nothing is created or changed: the checks and the claims it sent are shown here."
      actions={
        <Button variant="secondary" isLoading={startTest.isPending} onClick={() => void start()}>
          Test sign-in
        </Button>
      }
    >
      {connection.lastTestResult ? (
        <>
          {!connection.isTestedSinceLastChange && connection.lastTestResult.isSuccessful && (
            <Alert tone="warning" className="mb-4">
              {connection.status === 'enabled'
                ? 'The connection’s settings changed after this test. Test it again before requiring single sign-on with it.'
                : 'The connection’s settings changed after this test. Test it again before enabling it.'}
            </Alert>
          )}
          <DoctorResult result={connection.lastTestResult} testedAt={connection.lastTestedAt} protocol={connection.protocol} />
        </>
      ) : (
        <p className="text-sm text-slate-600">Not tested yet.</p>
      )}
    </Card>
  )
}

function StatusCard({ connection }: { connection: ConnectionView }) {
  const refresh = useRefreshConnection()
  const { withReauth } = useReauth()
  const setEnabled = trpc.organization.sso.setEnabled.useMutation()
  const reasonId = useId()
  const isEnabled = connection.status === 'enabled'

  async function changeEnabled(next: boolean) {
    const { revokedSessions } = await withReauth(() => setEnabled.mutateAsync({ connectionId: connection.id, isEnabled: next }))
    toast.success(
      next
        ? `${connection.displayName} is enabled.`
        : `${connection.displayName} is disabled.${revokedSessions > 0 ? ` ${revokedSessions} ${revokedSessions === 1 ? 'session' : 'sessions'} signed out.` : ''}`,
    )
    refresh()
  }

  return (
    <Card title="Status" description={isEnabled ? 'People at the domains routed here sign in through this connection.' : 'Nobody signs in through this connection while it is off.'}>
      {isEnabled ? (
        <ConfirmActionDialog
          trigger={
            <Button variant="danger" aria-label={`Disable ${connection.displayName}`}>
              Disable
            </Button>
          }
          title={`Disable ${connection.displayName}?`}
          description="Everyone signed in through it is signed out at once, and its domains fall back to passwords until it is enabled again."
          confirmLabel="Disable connection"
          isPending={setEnabled.isPending}
          onConfirm={() => changeEnabled(false)}
        />
      ) : (
        <div className="flex flex-wrap items-center gap-3">
          <Button
            isLoading={setEnabled.isPending}
            disabled={!connection.isTestedSinceLastChange}
            aria-describedby={connection.isTestedSinceLastChange ? undefined : reasonId}
            aria-label={`Enable ${connection.displayName}`}
            onClick={() => void changeEnabled(true).catch((error: unknown) => toast.error(describeFormError(error).message))}
          >
            Enable
          </Button>
          {!connection.isTestedSinceLastChange && (
            <p id={reasonId} className="text-sm text-slate-600">
              Run a successful test sign-in first{connection.lastTestResult ? ' (after the last change)' : ''}.
            </p>
          )}
        </div>
      )}
    </Card>
  )
}

function DeleteCard({ connection }: { connection: ConnectionView }) {
  const utils = trpc.useUtils()
  const navigate = useNavigate()
  const { withReauth } = useReauth()
  const remove = trpc.organization.sso.delete.useMutation()

  async function confirmDelete() {
    await withReauth(() => remove.mutateAsync({ connectionId: connection.id }))
    toast.success(`${connection.displayName} deleted.`)
    void utils.organization.sso.list.invalidate()
    void utils.organization.domains.list.invalidate()
    void utils.admin.audit.list.invalidate()
    await navigate({ to: '/admin/sso' })
  }

  return (
    <Card title="Delete connection" description="Its linked identities and domain routing are removed, and everyone signed in through it is signed out.">
      <ConfirmActionDialog
        trigger={
          <Button variant="danger" aria-label={`Delete ${connection.displayName}`}>
            Delete
          </Button>
        }
        title={`Delete ${connection.displayName}?`}
        description="This cannot be undone. People who signed in only through it cannot sign in until another connection or a password is set up."
        confirmLabel="Delete connection"
        isPending={remove.isPending}
        onConfirm={confirmDelete}
      />
    </Card>
  )
}
