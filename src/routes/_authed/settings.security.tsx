import { createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import { toast } from 'sonner'
import { LocalTime } from '../../components/local-time'
import { MfaSettingsSection } from '../../components/mfa/mfa-settings-section'
import { PageHeader } from '../../components/page-header'
import { NewPasswordField } from '../../components/password-field'
import { useReauth } from '../../components/reauth-provider'
import { Alert } from '../../components/ui/alert'
import { Badge } from '../../components/ui/badge'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { Spinner } from '../../components/ui/spinner'
import { TextField } from '../../components/ui/text-field'
import appConfig from '../../../app.config'
import { describeAuthMethod, describeUserAgent } from '../../lib/auth-labels'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../../lib/form-errors'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { useAuthSync } from '../../lib/use-auth-sync'
import { useSignedInViewer } from '../../lib/use-viewer'

export const Route = createFileRoute('/_authed/settings/security')({
  // In the first HTML: the sessions list renders on the server with the page.
  loader: ({ context }) => context.trpcUtils.sessions.list.ensureData(),
  head: () => ({ meta: [{ title: 'Security · Gatehouse' }] }),
  component: SecurityPage,
})

function SecurityPage() {
  const viewer = useSignedInViewer()
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Security" description="Your password, two-factor authentication and the devices signed in to your account." />
      {/* An SSO-only account has no password to change (it signs in at the identity provider). */}
      {viewer.user.hasPassword && <ChangePasswordCard />}
      <MfaSettingsSection />
      <SessionsCard />
    </div>
  )
}

function toChangePasswordFormError(error: unknown): FormError {
  const described = describeFormError(error)
  if (described.appCode === 'INVALID_CREDENTIALS') return { ...described, message: null, fields: { currentPassword: described.message ?? '' } }
  if (described.appCode === 'PASSWORD_POLICY') return { ...described, message: null, fields: { newPassword: described.message ?? '' } }
  return described
}

function ChangePasswordCard() {
  const viewer = useSignedInViewer()
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const changePassword = trpc.account.changePassword.useMutation()
  const [currentPassword, setCurrentPassword] = useState('')
  const [newPassword, setNewPassword] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const minLength = viewer.user.isMfaEnabled ? appConfig.password.minLengthWithMfa : appConfig.password.minLengthWithoutMfa

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      // A sensitive action: after REAUTH_REQUIRED the dialog asks for the password, then retries.
      const result = await withReauth(() => changePassword.mutateAsync({ currentPassword, newPassword }))
      setCurrentPassword('')
      setNewPassword('')
      toast.success(
        result.otherSessionsRevoked > 0
          ? `Password changed. ${result.otherSessionsRevoked} other ${result.otherSessionsRevoked === 1 ? 'session was' : 'sessions were'} signed out.`
          : 'Password changed.',
      )
      void utils.sessions.list.invalidate()
    } catch (error) {
      setFormError(toChangePasswordFormError(error))
    }
  }

  return (
    <Card title="Password" description="Changing it signs out every other device.">
      <form method="post" className="flex max-w-md flex-col gap-4" onSubmit={submit} noValidate>
        <Alert>{formError.message}</Alert>
        <TextField
          label="Current password"
          type="password"
          name="currentPassword"
          autoComplete="current-password"
          required
          value={currentPassword}
          onChange={(event) => setCurrentPassword(event.target.value)}
          error={formError.fields.currentPassword}
        />
        <NewPasswordField
          label="New password"
          name="newPassword"
          required
          value={newPassword}
          onChange={(event) => setNewPassword(event.target.value)}
          hint={
            viewer.user.isMfaEnabled
              ? // Said up front: a shorter one would keep two-factor authentication from being turned off later (ADR 018).
                `At least ${minLength} characters while two-factor authentication is on; at least ${appConfig.password.minLengthWithoutMfa} if you may ever turn it off. At most ${appConfig.password.maxLength}.`
              : `At least ${minLength} characters, at most ${appConfig.password.maxLength}.`
          }
          error={formError.fields.newPassword}
        />
        <div>
          <Button type="submit" isLoading={changePassword.isPending}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  )
}

type SessionRow = RouterOutputs['sessions']['list'][number]

function SessionsCard() {
  const utils = trpc.useUtils()
  const authSync = useAuthSync()
  const sessions = trpc.sessions.list.useQuery()
  const revoke = trpc.sessions.revoke.useMutation()
  const revokeOthers = trpc.sessions.revokeOthers.useMutation()
  const otherCount = sessions.data?.filter((session) => !session.isCurrent).length ?? 0

  async function revokeOne(session: SessionRow) {
    try {
      const { isCurrent } = await revoke.mutateAsync({ id: session.id })
      if (isCurrent) {
        await authSync.syncAfterLocalChange('signed-out')
        return
      }
      toast.success(`Signed out ${describeUserAgent(session.userAgent)}.`)
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
    void utils.sessions.list.invalidate()
  }

  async function revokeAllOthers() {
    try {
      const { revoked } = await revokeOthers.mutateAsync()
      toast.success(revoked === 1 ? 'Signed out 1 other session.' : `Signed out ${revoked} other sessions.`)
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
    void utils.sessions.list.invalidate()
  }

  return (
    <Card
      title="Where you’re signed in"
      description="Sign out any session you don’t recognise."
      actions={
        // Offered only when there is another session to end.
        otherCount > 0 && (
          <Button variant="danger" onClick={revokeAllOthers} isLoading={revokeOthers.isPending}>
            Sign out all other sessions
          </Button>
        )
      }
    >
      {sessions.data ? (
        <ul className="divide-y divide-slate-200" aria-label="Sessions">
          {sessions.data.map((session) => (
            <li key={session.id} className="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="session-row" data-current={session.isCurrent || undefined}>
              <div className="min-w-0">
                <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-slate-900">
                  {describeUserAgent(session.userAgent)}
                  {session.isCurrent && <Badge tone="success">This device</Badge>}
                  {session.isMfaSatisfied && <Badge tone="accent">2FA</Badge>}
                </p>
                <p className="mt-0.5 text-xs text-slate-500">
                  {describeAuthMethod(session.authMethod)} · {session.ip ?? 'unknown IP'} · signed in <LocalTime iso={session.createdAt} /> ·{' '}
                  {/* `lastSeenAt` is written at most once per renewal interval: for this device, "now" is the truth. */}
                  {session.isCurrent ? 'active now' : <>last active <LocalTime iso={session.lastSeenAt} /></>}
                </p>
              </div>
              <Button
                variant={session.isCurrent ? 'secondary' : 'danger'}
                onClick={() => revokeOne(session)}
                disabled={revoke.isPending}
                // The accessible name starts with the visible label (WCAG 2.5.3 Label in Name).
                aria-label={session.isCurrent ? 'Sign out this device' : `Sign out ${describeUserAgent(session.userAgent)} (signed in from ${session.ip ?? 'unknown IP'})`}
              >
                Sign out
              </Button>
            </li>
          ))}
        </ul>
      ) : sessions.isError ? (
        <Alert>{describeFormError(sessions.error).message}</Alert>
      ) : (
        <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
          <Spinner /> Loading sessions…
        </p>
      )}
    </Card>
  )
}
