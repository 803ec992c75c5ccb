/**
 * Two-factor authentication on /settings/security: status, enrolling (or moving to a new
 * authenticator), regenerating recovery codes and turning MFA off. The last two are sensitive
 * procedures: `withReauth` opens the re-auth dialog on REAUTH_REQUIRED and retries.
 */
import { useState } from 'react'
import { toast } from 'sonner'
import appConfig from '../../../app.config'
import { describeFormError } from '../../lib/form-errors'
import { trpc } from '../../lib/trpc'
import { useSignedInViewer } from '../../lib/use-viewer'
import { LocalTime } from '../local-time'
import { useReauth } from '../reauth-provider'
import { Alert } from '../ui/alert'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { ConfirmActionDialog } from '../ui/confirm-dialog'
import { Card } from '../ui/card'
import { Spinner } from '../ui/spinner'
import { TextField } from '../ui/text-field'
import { RecoveryCodesPanel } from './recovery-codes-panel'
import { TotpEnrollment } from './totp-enrollment'

/** At or below this many unused recovery codes, the user is nudged to regenerate. */
const LOW_RECOVERY_CODES = 3

type Panel = { kind: 'overview' } | { kind: 'enroll'; isReEnrollment: boolean; isConfirmed: boolean } | { kind: 'new-codes'; codes: string[]; otherSessionCount: number }

export function MfaSettingsSection() {
  const viewer = useSignedInViewer()
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const status = trpc.mfa.status.useQuery()
  const regenerate = trpc.mfa.regenerateRecoveryCodes.useMutation()
  const [panel, setPanel] = useState<Panel>({ kind: 'overview' })

  /** After a change that rotated the session or revoked others: everything that shows it is stale. */
  function refreshAfterChange() {
    void utils.mfa.status.invalidate()
    void utils.sessions.list.invalidate()
    void utils.auth.me.invalidate()
  }

  async function regenerateCodes() {
    try {
      const { recoveryCodes, otherSessionCount } = await withReauth(() => regenerate.mutateAsync())
      setPanel({ kind: 'new-codes', codes: recoveryCodes, otherSessionCount })
      // The session got a new token: the sessions list and the viewer are stale.
      refreshAfterChange()
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  const description = 'A code from an authenticator app on your phone, on top of your password.'

  if (panel.kind === 'enroll') {
    return (
      <Card
        // Once the code is confirmed MFA is on: the card no longer invites to "set up" anything.
        title={panel.isConfirmed ? 'Two-factor authentication is on' : panel.isReEnrollment ? 'Move to a new authenticator' : 'Set up two-factor authentication'}
        description={panel.isConfirmed ? 'Save your recovery codes before you continue.' : description}
      >
        <TotpEnrollment
          accountEmail={viewer.user.email}
          isReEnrollment={panel.isReEnrollment}
          startLabel="Try again"
          startsImmediately
          onConfirmed={() => {
            setPanel({ kind: 'enroll', isReEnrollment: panel.isReEnrollment, isConfirmed: true })
            refreshAfterChange()
          }}
          onComplete={() => setPanel({ kind: 'overview' })}
          onCancel={() => setPanel({ kind: 'overview' })}
        />
      </Card>
    )
  }

  if (panel.kind === 'new-codes') {
    return (
      <Card title="New recovery codes" description="Your previous recovery codes no longer work.">
        {panel.otherSessionCount > 0 && <SignOutOthersOffer count={panel.otherSessionCount} onDone={() => setPanel({ ...panel, otherSessionCount: 0 })} />}
        <RecoveryCodesPanel codes={panel.codes} accountEmail={viewer.user.email} continueLabel="Done" onContinue={() => setPanel({ kind: 'overview' })} />
      </Card>
    )
  }

  return (
    <Card title="Two-factor authentication" description={description} actions={status.data && <Badge tone={status.data.isEnabled ? 'success' : 'neutral'}>{status.data.isEnabled ? 'On' : 'Off'}</Badge>}>
      {status.data ? (
        status.data.isEnabled ? (
          <div className="flex flex-col gap-4" data-testid="mfa-enabled">
            <dl className="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
              <dt className="text-slate-500">Authenticator app</dt>
              <dd className="text-slate-900">{status.data.enabledAt ? <>Added <LocalTime iso={status.data.enabledAt} /></> : 'Added'}</dd>
              <dt className="text-slate-500">Recovery codes</dt>
              <dd className="text-slate-900" data-testid="recovery-codes-remaining">
                {status.data.recoveryCodesRemaining} left
              </dd>
            </dl>
            {status.data.recoveryCodesRemaining <= LOW_RECOVERY_CODES && (
              <Alert tone="warning">
                {status.data.recoveryCodesRemaining === 0 ? 'You have no recovery codes left.' : 'You are running low on recovery codes.'} Generate a new set so a lost phone does not lock you out.
              </Alert>
            )}
            <div className="flex flex-wrap gap-2">
              <Button variant="secondary" onClick={regenerateCodes} isLoading={regenerate.isPending}>
                Regenerate recovery codes
              </Button>
              <Button variant="secondary" onClick={() => setPanel({ kind: 'enroll', isReEnrollment: true, isConfirmed: false })}>
                Move to a new authenticator
              </Button>
              <DisableMfaButton hasPassword={viewer.user.hasPassword} onDisabled={refreshAfterChange} />
            </div>
          </div>
        ) : (
          <div className="flex flex-col gap-4">
            <p className="text-sm text-slate-600">Two-factor authentication is off. Turn it on so a stolen password alone cannot open your account.</p>
            <div>
              <Button onClick={() => setPanel({ kind: 'enroll', isReEnrollment: false, isConfirmed: false })}>Set up two-factor authentication</Button>
            </div>
          </div>
        )
      ) : status.isError ? (
        <Alert>{describeFormError(status.error).message}</Alert>
      ) : (
        <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
          <Spinner /> Loading…
        </p>
      )}
    </Card>
  )
}

/**
 * "Turn off", behind a confirmation dialog (and the re-auth dialog the server may ask for). An
 * account with a password confirms it here: once the factor is gone that password alone opens the
 * account, so the server refuses one too weak to stand alone (under 15 characters, ADR 018) and
 * its message, shown in the dialog, says to change the password first.
 */
function DisableMfaButton({ hasPassword, onDisabled }: { hasPassword: boolean; onDisabled: () => void }) {
  const { withReauth } = useReauth()
  const disable = trpc.mfa.disable.useMutation()
  const [currentPassword, setCurrentPassword] = useState('')

  async function confirmDisable() {
    const { otherSessionsRevoked } = await withReauth(() => disable.mutateAsync(hasPassword ? { currentPassword } : {}))
    setCurrentPassword('')
    toast.success(
      otherSessionsRevoked > 0
        ? `Two-factor authentication is off. ${otherSessionsRevoked === 1 ? '1 other session was' : `${otherSessionsRevoked} other sessions were`} signed out.`
        : 'Two-factor authentication is off.',
    )
    onDisabled()
  }

  return (
    <ConfirmActionDialog
      trigger={<Button variant="danger">Turn off</Button>}
      title="Turn off two-factor authentication?"
      description="Your password alone will open your account again. Your authenticator and recovery codes stop working, and your other sessions are signed out."
      confirmLabel="Turn off"
      isPending={disable.isPending}
      onConfirm={confirmDisable}
      onOpenChange={(isOpen) => {
        if (!isOpen) setCurrentPassword('')
      }}
    >
      {hasPassword && (
        <TextField
          label="Current password"
          type="password"
          name="currentPassword"
          autoComplete="current-password"
          hint={`A password used on its own needs at least ${appConfig.password.minLengthWithoutMfa} characters.`}
          required
          value={currentPassword}
          onChange={(event) => setCurrentPassword(event.target.value)}
        />
      )}
    </ConfirmActionDialog>
  )
}

/**
 * After new recovery codes: the old ones may have leaked, and whoever used one may hold a session.
 * Offers to end every other session (the same call as the sessions list's "Sign out all others").
 */
function SignOutOthersOffer({ count, onDone }: { count: number; onDone: () => void }) {
  const utils = trpc.useUtils()
  const revokeOthers = trpc.sessions.revokeOthers.useMutation()

  async function signOutOthers() {
    try {
      const { revoked } = await revokeOthers.mutateAsync()
      toast.success(revoked === 1 ? 'Signed out 1 other session.' : `Signed out ${revoked} other sessions.`)
      void utils.sessions.list.invalidate()
      onDone()
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  return (
    <Alert tone="warning">
      <span className="flex flex-wrap items-center gap-3">
        <span>
          You are signed in on {count === 1 ? '1 other device' : `${count} other devices`}. If your old codes may have been seen by someone else, sign those out too.
        </span>
        <Button variant="secondary" onClick={signOutOthers} isLoading={revokeOthers.isPending}>
          Sign out other sessions
        </Button>
      </span>
    </Alert>
  )
}
