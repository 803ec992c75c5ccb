/**
 * MFA enrollment as a page (SPEC §5): where a user is walked right after sign-in when a second
 * factor is demanded — by the organization's policy, or because their password is allowed only
 * beside one (ADR 018) — and reaches nothing else until done; usable by any signed-in user too.
 * The page says which reason applies; a user forced by a short password may instead sign out (the
 * header's button) and reset it to a longer one from the sign-in page. Not under `_authed`: that
 * layout sends a forced-enrollment viewer here.
 */
import { Link, createFileRoute, redirect, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import appConfig from '../../app.config'
import { AuthCard } from '../components/auth-card'
import { getMfaCompletionTarget, MFA_CHALLENGE_PATH } from '../components/mfa/mfa-redirects'
import { TotpEnrollment } from '../components/mfa/totp-enrollment'
import { formatEmailForDisplay } from '../lib/email-display'
import { Button, buttonClassName } from '../components/ui/button'
import { Spinner } from '../components/ui/spinner'
import { parseRedirectSearch, withRedirectParam } from '../lib/auth-redirects'
import { useAuthSync } from '../lib/use-auth-sync'
import { useViewer } from '../lib/use-viewer'

export const Route = createFileRoute('/mfa/enroll')({
  validateSearch: parseRedirectSearch,
  // Signed in (forced to enroll or not) stays; the other states go to their own page. A signed-in
  // viewer is not sent away, so the recovery codes stay on screen after enrollment completes.
  beforeLoad: ({ context, search }) => {
    const viewer = context.viewer
    if (!viewer) throw redirect({ to: '/login', search: search.redirect === undefined ? {} : { redirect: search.redirect } })
    if (viewer.status === 'mfa-pending') throw redirect({ href: withRedirectParam(MFA_CHALLENGE_PATH, getMfaCompletionTarget(search.redirect)) })
  },
  head: () => ({ meta: [{ title: 'Set up two-factor authentication · Gatehouse' }] }),
  component: MfaEnrollPage,
})

function MfaEnrollPage() {
  const viewer = useViewer()
  const search = Route.useSearch()
  const navigate = useNavigate()
  const authSync = useAuthSync()
  // Once a code is confirmed the viewer changes (MFA on, no longer forced); keep the flow mounted
  // so the recovery codes stay visible until the user says they saved them.
  const [hasConfirmed, setHasConfirmed] = useState(false)
  const target = getMfaCompletionTarget(search.redirect)

  if (!viewer || !('user' in viewer)) {
    return (
      <p className="flex items-center justify-center gap-2 py-16 text-sm text-slate-600" role="status">
        <Spinner /> Loading…
      </p>
    )
  }

  const isForced = viewer.status === 'mfa-enrollment-required'
  const isAlreadyOn = !isForced && viewer.user.isMfaEnabled && !hasConfirmed
  return (
    <AuthCard
      title="Set up two-factor authentication"
      description={
        viewer.status !== 'mfa-enrollment-required'
          ? 'Add a code from an authenticator app on your phone to your password.'
          : viewer.mfaEnrollmentReason === 'password_needs_second_factor'
            ? `Your password is too short or too easy to guess to protect your account on its own (a password used alone needs at least ${appConfig.password.minLengthWithoutMfa} characters). Set up two-factor authentication to continue; it takes a minute. Or sign out and choose a longer password with “Forgot your password?” on the sign-in page.`
            : `${viewer.user.organization?.name ?? 'Your organization'} requires two-factor authentication. Set it up to continue; it takes a minute.`
      }
    >
      {isAlreadyOn ? (
        <div className="flex flex-col gap-4">
          <p className="text-sm text-slate-700">Two-factor authentication is already on for {formatEmailForDisplay(viewer.user.email)}. Manage it in your security settings.</p>
          <div className="flex flex-wrap gap-2">
            <Link to="/settings/security" className={buttonClassName('primary')}>
              Security settings
            </Link>
            <Button variant="secondary" onClick={() => navigate({ href: target })}>
              Continue
            </Button>
          </div>
        </div>
      ) : (
        <TotpEnrollment
          accountEmail={viewer.user.email}
          startLabel="Begin setup"
          onConfirmed={() => setHasConfirmed(true)}
          onComplete={async () => {
            // Follow the now fully signed-in viewer (this tab and the others), then go on.
            await authSync.syncAfterLocalChange('signed-in')
            await navigate({ href: target })
          }}
        />
      )}
    </AuthCard>
  )
}
