/**
 * Runs on both sides (isomorphic), two implementations: on the server the tRPC client calls procedures in-process
 * with the incoming request's context (SSR must never call its own `/api/trpc` over HTTP: the
 * user's cookies would not travel); in the browser it batches over HTTP. The Start compiler keeps
 * only the matching branch in each bundle, so the server link never reaches the client.
 */
import { createIsomorphicFn } from '@tanstack/react-start'
import { httpBatchLink, type TRPCLink } from '@trpc/client'
import type { AppRouter } from '../server/trpc/root'
import { createInProcessLink } from '../server/trpc/in-process-link'

export const createTrpcLinks = createIsomorphicFn()
  .server((): TRPCLink<AppRouter>[] => [createInProcessLink()])
  .client((): TRPCLink<AppRouter>[] => [
    httpBatchLink({
      url: '/api/trpc',
      // Keep batched GET URLs well under common proxy limits.
      maxURLLength: 2000,
      // The server refuses batches of more than 50 calls (src/server/trpc/http-handler.ts).
      maxItems: 50,
    }),
  ])
