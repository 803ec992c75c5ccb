/**
 * The router factory Start calls once per server request and once in the browser. Each call makes
 * its own QueryClient, so one user's cached data can never render into another user's page.
 */
import { QueryClient } from '@tanstack/react-query'
import { createRouter } from '@tanstack/react-router'
import { setupRouterSsrQueryIntegration } from '@tanstack/react-router-ssr-query'
import { createTRPCClient } from '@trpc/client'
import { createTRPCQueryUtils } from '@trpc/react-query'
import type { ReactNode } from 'react'
import { trpc } from './lib/trpc'
import { createTrpcLinks } from './lib/trpc-links'
import { routeTree } from './routeTree.gen'
import type { AppRouter } from './server/trpc/root'

export function getRouter() {
  const queryClient = new QueryClient({
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

  const router = createRouter({
    routeTree,
    context: { queryClient, trpcUtils },
    scrollRestoration: true,
    defaultPreload: 'intent',
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
