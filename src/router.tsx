/**
 * The router factory Start calls once per server request and once in the browser. Each call makes
 * its own QueryClient, so one user's cached data can never render into another user's page.
 */
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query'
import { createRouter } from '@tanstack/react-router'
import { setupRouterSsrQueryIntegration } from '@tanstack/react-router-ssr-query'
import { createTRPCClient } from '@trpc/client'
import { createTRPCQueryUtils } from '@trpc/react-query'
import type { ReactNode } from 'react'
import { RouteErrorPage } from './components/route-error-page'
import { createAuthSync, isViewerQueryKey, type AuthSync } from './lib/auth-sync'
import { getRenderNonce } from './isomorphic/csp-nonce'
import { trpc } from './lib/trpc'
import { createTrpcLinks } from './isomorphic/trpc-links'
import type { Viewer } from './lib/viewer'
import { routeTree } from './routeTree.gen'
import type { AppRouter } from './server/trpc/root'

/** Route ids whose pages belong to a signed-in (or half-signed-in) viewer. */
const SIGNED_IN_ROUTE_PREFIXES = ['/_authed', '/login/mfa', '/mfa/enroll']

export function getRouter() {
  // Declared before the caches so their callbacks can reach it; assigned just below.
  let authSync: AuthSync | undefined
  const queryClient = new QueryClient({
    // One central place for "the server says the session changed": any query or mutation that
    // fails with UNAUTHENTICATED / MFA_REQUIRED (and every revalidation of the viewer) lands here.
    queryCache: new QueryCache({
      onError: (error) => authSync?.handleProcedureError(error),
      onSuccess: (data, query) => {
        if (isViewerQueryKey(query.queryKey)) authSync?.noteFetchedViewer(data as Viewer)
      },
    }),
    mutationCache: new MutationCache({ onError: (error) => authSync?.handleProcedureError(error) }),
    defaultOptions: {
      queries: {
        // SSR data is fresh when it arrives; do not refetch it during hydration.
        staleTime: 30_000,
        retry: false,
      },
    },
  })
  const trpcClient = createTRPCClient<AppRouter>({ links: createTrpcLinks() })
  const trpcUtils = createTRPCQueryUtils<AppRouter>({ queryClient, client: trpcClient })
  authSync = createAuthSync({
    queryClient,
    trpcClient,
    trpcUtils,
    invalidateRouter: () => router.invalidate(),
    showSignInPageAfterSignOut: async () => {
      // From a page only a signed-in viewer may see, go to the plain sign-in page (no `redirect`:
      // the next person lands on their own dashboard). Elsewhere (home, guest pages) stay put.
      const isOnSignedInPage = router.state.matches.some((match) => SIGNED_IN_ROUTE_PREFIXES.some((prefix) => match.routeId.startsWith(prefix)))
      if (isOnSignedInPage) await router.navigate({ to: '/login' })
      else await router.invalidate()
    },
  })

  const router = createRouter({
    routeTree,
    context: { queryClient, trpcUtils, trpcClient, authSync },
    scrollRestoration: true,
    defaultPreload: 'intent',
    defaultErrorComponent: RouteErrorPage,
    // Inline scripts carry the request's CSP nonce, so production's CSP needs no 'unsafe-inline'.
    ssr: { nonce: getRenderNonce() },
    Wrap: ({ children }: { children: ReactNode }) => (
      <trpc.Provider client={trpcClient} queryClient={queryClient}>
        {children}
      </trpc.Provider>
    ),
  })
  setupRouterSsrQueryIntegration({ router, queryClient, wrapQueryClient: true })
  return router
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof getRouter>
  }
}
