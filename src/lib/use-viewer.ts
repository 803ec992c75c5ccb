/**
 * Client-safe: the one hook that tells a component who is signed in.
 *
 * The viewer is loaded during SSR by the root route (in-process, with the request's cookie) and
 * hydrated into the query cache, so the first render — on the server and in the browser — already
 * knows the user: no signed-out flash, no layout shift. Afterwards it is revalidated on window
 * focus, on reconnect and on an interval from `app.config.ts`; `auth-sync.ts` reacts to changes.
 */
import { focusManager } from '@tanstack/react-query'
import { useEffect } from 'react'
import appConfig from '../../app.config'
import { trpc } from './trpc'
import { isSignedIn, type SignedInViewer, type Viewer } from './viewer'

const VIEWER_REVALIDATE_MS = appConfig.client.viewerRevalidateSeconds * 1000

const viewerQueryOptions = {
  // Mounting another component that shows the user must not cost a request: the cache is kept
  // fresh by focus, reconnect and the interval instead.
  refetchOnMount: false,
  // 'always': coming back to the tab re-asks the server even when the data is recent, so a
  // session revoked elsewhere is noticed the moment the user looks.
  refetchOnWindowFocus: 'always',
  refetchOnReconnect: 'always',
} as const

/** The current viewer (null when signed out). */
export function useViewer(): Viewer {
  return trpc.auth.me.useQuery(undefined, viewerQueryOptions).data ?? null
}

/**
 * Mounted once (root layout): drives the periodic revalidation. React Query runs one interval
 * timer per observer, so putting the interval on every `useViewer()` would poll once per
 * component that shows the user.
 */
export function useViewerRevalidation(): void {
  useEffect(listenForWindowFocus, [])
  trpc.auth.me.useQuery(undefined, {
    ...viewerQueryOptions,
    refetchInterval: VIEWER_REVALIDATE_MS,
    // A hidden tab does not poll; it revalidates when it becomes visible again (focus).
    refetchIntervalInBackground: false,
  })
}

/**
 * TanStack Query v5 revalidates on `visibilitychange` only (switching tabs); SPEC §4 also means
 * coming back to the browser window from another application, which only `focus` reports.
 */
function listenForWindowFocus(): void {
  focusManager.setEventListener((handleFocus) => {
    const onChange = () => handleFocus()
    window.addEventListener('visibilitychange', onChange)
    window.addEventListener('focus', onChange)
    return () => {
      window.removeEventListener('visibilitychange', onChange)
      window.removeEventListener('focus', onChange)
    }
  })
}

/**
 * The signed-in viewer, for components inside the `_authed` subtree (whose layout renders its
 * children only while the viewer is signed in). Throws anywhere else.
 */
export function useSignedInViewer(): SignedInViewer {
  const viewer = useViewer()
  if (!isSignedIn(viewer)) throw new Error('useSignedInViewer() is only for components under the _authed layout')
  return viewer
}
