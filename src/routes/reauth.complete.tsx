/**
 * Where a step-up at the identity provider ends when it ran in a popup (the re-auth dialog passes
 * `redirect: '/reauth/complete'` to `auth.beginSsoReauthentication`). The callback has already
 * stamped the session; this page only tells the opener's dialog (over the `gatehouse-auth`
 * BroadcastChannel, same origin only) so it retries the action, then closes itself.
 */
import { createFileRoute, Link } from '@tanstack/react-router'
import { useEffect } from 'react'
import { buttonClassName } from '../components/ui/button'
import { AUTH_CHANNEL_NAME, type AuthMessage } from '../lib/auth-sync'

export const Route = createFileRoute('/reauth/complete')({
  head: () => ({ meta: [{ title: 'Confirmed · Gatehouse' }] }),
  component: ReauthCompletePage,
})

function ReauthCompletePage() {
  useEffect(() => {
    if (typeof BroadcastChannel !== 'undefined') {
      const channel = new BroadcastChannel(AUTH_CHANNEL_NAME)
      channel.postMessage({ type: 'reauthenticated' } satisfies AuthMessage)
      channel.close()
    }
    // The app's COOP (same-origin) cuts `window.opener` once the popup has been at the IdP, but the
    // window is still the one the dialog opened, so it may close itself. Opened any other way, the
    // browser ignores this and the page stays, with its link.
    window.close()
  }, [])

  return (
    <div className="mx-auto flex max-w-md flex-col items-center gap-4 px-4 py-16 text-center">
      <h1 className="text-xl font-semibold">You’re confirmed</h1>
      <p className="text-sm text-slate-600">You can close this window and continue where you were.</p>
      <Link to="/app" className={buttonClassName('secondary')}>
        Go to the dashboard
      </Link>
    </div>
  )
}
