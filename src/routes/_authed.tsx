/**
 * Pathless layout guarding everything signed-in users see (SPEC §3). The guard is UX: it sends a
 * signed-out viewer to `/login?redirect=<here>` (MFA states to their MFA step) before anything
 * renders; the server still checks every procedure these pages call.
 */
import { Outlet, createFileRoute } from '@tanstack/react-router'
import { Spinner } from '../components/ui/spinner'
import { requireSignedInViewer } from '../lib/auth-redirects'
import { useViewer } from '../lib/use-viewer'
import { isSignedIn } from '../lib/viewer'

export const Route = createFileRoute('/_authed')({
  // Narrows the context: every route below sees a signed-in `viewer`.
  beforeLoad: ({ context, location }) => ({ viewer: requireSignedInViewer(context.viewer, location.href) }),
  component: AuthedLayout,
})

function AuthedLayout() {
  const viewer = useViewer()
  // The session just ended (revoked, signed out in another tab): the guard is redirecting; render
  // nothing of the previous user meanwhile, so children may rely on a signed-in viewer.
  if (!isSignedIn(viewer)) {
    return (
      <p className="flex items-center justify-center gap-2 py-16 text-sm text-slate-600" role="status">
        <Spinner /> Signing you out…
      </p>
    )
  }
  return <Outlet />
}
