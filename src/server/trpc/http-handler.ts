/** Server-only: serves `/api/trpc/*` with the fetch adapter. */
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { createHeaderCookieJar } from '../http/cookies'
import { createTRPCContext } from './context'
import { appRouter } from './root'

/** Handles one tRPC HTTP request (batched or single). */
export function handleTrpcRequest(request: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req: request,
    router: appRouter,
    createContext: ({ resHeaders }) =>
      createTRPCContext({ request, cookies: createHeaderCookieJar(request, resHeaders), responseHeaders: resHeaders }),
    onError: ({ error, path }) => {
      // Unexpected failures are logged with their cause for the operator; the client gets the
      // generic INTERNAL_SERVER_ERROR shape without stack or SQL.
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        console.error(`[trpc] ${path ?? '<unknown>'} failed:`, error.cause ?? error)
      }
    },
  })
}
