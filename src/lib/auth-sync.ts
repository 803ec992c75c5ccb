/**
 * Client-safe: keeps the UI in step with the server's idea of who is signed in (SPEC §4).
 *
 * Three sources can change the viewer: this tab (sign-in/out), another tab (BroadcastChannel
 * 'gatehouse-auth'), and the server (the periodic `auth.me` revalidation, or any procedure failing
 * with UNAUTHENTICATED / MFA_REQUIRED). Each ends in `applyViewer`: when the viewer really changed,
 * every other cached query is dropped (nothing of the previous user may render again) and the
 * router is invalidated. Navigation is then done by the route guards alone (`_authed` sends a
 * signed-out viewer to `/login?redirect=<where they were>`, guest pages send a signed-in one to
 * their redirect target), so there is exactly one place that decides where a viewer belongs.
 *
 * One instance per router: per server request during SSR (where it stays inert) and per tab.
 */
import type { Query, QueryClient, QueryKey } from '@tanstack/react-query'
import type { TRPCClient } from '@trpc/client'
import type { CreateQueryUtils } from '@trpc/react-query/shared'
import { toast } from 'sonner'
import type { AppRouter } from '../server/trpc/root'
import { getAppErrorCode } from './app-errors'
import type { Viewer } from './viewer'

export const AUTH_CHANNEL_NAME = 'gatehouse-auth'

/**
 * What one tab tells the others. `isDeliberate`: someone pressed "Sign out" (rather than the
 * session dying), so no tab keeps a `redirect` back to the previous person's page.
 */
export type AuthMessage =
  | { type: 'signed-in' }
  | { type: 'signed-out'; isDeliberate: boolean }
  /** A step-up at the identity provider finished (the popup's `/reauth/complete` page says so to its opener). */
  | { type: 'reauthenticated' }

/**
 * What just happened in this tab: a sign-in, a deliberate sign-out, or a session that ended as a
 * side effect (a password reset, too many wrong codes) — the last keeps the way back.
 */
export type LocalAuthChange = 'signed-in' | 'signed-out' | 'session-ended'

/** Why the viewer is being applied; decides whether the user is told about it. */
type ViewerChangeSource = 'this-tab' | 'other-tab' | 'server'

/** How a signed-out viewer is shown: the guards' way (with a `redirect` back) or a plain sign-in page. */
type SignedOutRouting = 'follow-guards' | 'plain-sign-in-page'

export type AuthSync = {
  /** Called once the page has hydrated: remembers the rendered viewer, listens to other tabs. */
  start(): () => void
  /** QueryCache hook: a fetch of `auth.me` finished (interval, focus, reconnect, ensureData). */
  noteFetchedViewer(viewer: Viewer): void
  /** Query/mutation cache hook: reacts to errors that mean the session changed under us. */
  handleProcedureError(error: unknown): void
  /** After this tab signed in or out: reload the viewer, follow it, tell the other tabs. */
  syncAfterLocalChange(change: LocalAuthChange): Promise<void>
}

/** True for the query key of `auth.me` (tRPC keys are `[path, { type }]`). */
export function isViewerQueryKey(queryKey: QueryKey): boolean {
  const path = queryKey[0]
  return Array.isArray(path) && path.length === 2 && path[0] === 'auth' && path[1] === 'me'
}

/**
 * Identity of a viewer as far as the UI cares: who, in which MFA state, with which role (a
 * demotion must re-run the admin guard).
 */
function viewerKey(viewer: Viewer): string {
  if (!viewer) return 'signed-out'
  if (viewer.status === 'mfa-pending') return 'mfa-pending'
  return `${viewer.status}:${viewer.user.id}:${viewer.user.role}`
}

/** Creates the synchroniser for one router (one tab, or one SSR request). */
export function createAuthSync(options: {
  queryClient: QueryClient
  trpcClient: TRPCClient<AppRouter>
  trpcUtils: CreateQueryUtils<AppRouter>
  invalidateRouter: () => Promise<void>
  /**
   * After a deliberate sign-out: the sign-in page without a `redirect`, so whoever signs in next
   * lands on their own dashboard, not on the page (or the "admin role required" notice) of the
   * person before them. Re-running the guards instead would keep `?redirect=<here>`.
   */
  showSignInPageAfterSignOut: () => Promise<void>
}): AuthSync {
  const { queryClient, trpcClient, trpcUtils, invalidateRouter, showSignInPageAfterSignOut } = options
  /** The viewer the UI currently shows; undefined until `start()` (so SSR never reacts). */
  let shownKey: string | undefined
  let channel: BroadcastChannel | null = null
  let inFlightRefresh: Promise<void> | null = null

  function forgetEverythingButTheViewer(): void {
    queryClient.removeQueries({ predicate: (query: Query) => !isViewerQueryKey(query.queryKey) })
  }

  function applyViewer(viewer: Viewer, source: ViewerChangeSource, routing: SignedOutRouting = 'follow-guards'): void {
    if (shownKey === undefined) return
    // Always keep the cached viewer current (e.g. `isMfaEnabled` after enrolling), even when
    // nothing that decides where the viewer belongs has changed.
    if (trpcUtils.auth.me.getData() !== viewer) trpcUtils.auth.me.setData(undefined, viewer)
    const previousKey = shownKey
    const nextKey = viewerKey(viewer)
    if (nextKey === previousKey) return
    shownKey = nextKey
    forgetEverythingButTheViewer()
    if (nextKey === 'signed-out' && previousKey !== 'signed-out' && source !== 'this-tab') {
      toast.info(source === 'other-tab' ? 'You signed out in another tab.' : 'Your session has ended. Please sign in again.', { id: 'session-ended' })
    }
    void (nextKey === 'signed-out' && routing === 'plain-sign-in-page' ? showSignInPageAfterSignOut() : invalidateRouter())
  }

  /** Asks the server who we are, bypassing the cache hooks (the source is known here). */
  function refreshViewer(source: ViewerChangeSource, routing: SignedOutRouting = 'follow-guards'): Promise<void> {
    inFlightRefresh ??= trpcClient.auth.me
      .query()
      .then((viewer) => applyViewer(viewer, source, routing))
      .catch(() => {
        // Offline or server error: keep what we show; the interval or reconnect will retry.
      })
      .finally(() => {
        inFlightRefresh = null
      })
    return inFlightRefresh
  }

  function broadcast(message: AuthMessage): void {
    channel?.postMessage(message)
  }

  return {
    start() {
      shownKey = viewerKey(trpcUtils.auth.me.getData() ?? null)
      if (typeof BroadcastChannel === 'undefined') return () => {}
      // Posting and listening on the same object: a channel never receives its own messages.
      const ownChannel = new BroadcastChannel(AUTH_CHANNEL_NAME)
      channel = ownChannel
      ownChannel.onmessage = (event: MessageEvent<AuthMessage>) => {
        // Same person, same session: nothing for the viewer to follow (the re-auth dialog listens itself).
        if (event.data?.type === 'reauthenticated') return
        const isDeliberateSignOut = event.data?.type === 'signed-out' && event.data.isDeliberate
        void refreshViewer('other-tab', isDeliberateSignOut ? 'plain-sign-in-page' : 'follow-guards')
      }
      return () => {
        ownChannel.close()
        if (channel === ownChannel) channel = null
      }
    },

    noteFetchedViewer(viewer) {
      const wasSignedIn = shownKey !== undefined && shownKey !== 'signed-out'
      applyViewer(viewer, 'server')
      // The session died behind our back (revoked, expired, user disabled): other tabs share
      // the cookie, so they are signed out too; let them follow now rather than at their next poll.
      if (wasSignedIn && viewer === null) broadcast({ type: 'signed-out', isDeliberate: false })
    },

    handleProcedureError(error) {
      if (shownKey === undefined) return
      const code = getAppErrorCode(error)
      if (code === 'UNAUTHENTICATED') {
        // The server said it outright: no need to ask again.
        const wasSignedIn = shownKey !== 'signed-out'
        applyViewer(null, 'server')
        if (wasSignedIn) broadcast({ type: 'signed-out', isDeliberate: false })
      } else if (code === 'MFA_REQUIRED' || code === 'MFA_ENROLLMENT_REQUIRED' || code === 'FORBIDDEN') {
        // The session owes a factor, or the role changed: the viewer tells which, the guards route.
        void refreshViewer('server')
      }
      // Everything else (INVALID_CREDENTIALS on sign-in, REAUTH_REQUIRED, …) belongs to the caller.
    },

    async syncAfterLocalChange(change) {
      if (change === 'signed-in') {
        await refreshViewer('this-tab')
        broadcast({ type: 'signed-in' })
        return
      }
      const isDeliberate = change === 'signed-out'
      applyViewer(null, 'this-tab', isDeliberate ? 'plain-sign-in-page' : 'follow-guards')
      broadcast({ type: 'signed-out', isDeliberate })
    },
  }
}
