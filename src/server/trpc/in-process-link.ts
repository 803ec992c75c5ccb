/**
 * Server-only: the SSR transport. Procedures run in this process with a context built from the
 * request being rendered (its cookies, its IP); cookies they set land on that request's response.
 */
import { getRequest } from '@tanstack/react-start/server'
import { unstable_localLink, type TRPCLink } from '@trpc/client'
import { createStartCookieJar } from '../functions/start-cookie-jar'
import { createTRPCContext } from './context'
import { appRouter, type AppRouter } from './root'

/** A terminating link that calls `appRouter` directly for the current SSR request. */
export function createInProcessLink(): TRPCLink<AppRouter> {
  return unstable_localLink({
    router: appRouter,
    createContext: async () => {
      const request = getRequest()
      return createTRPCContext({ request, cookies: createStartCookieJar(request), responseHeaders: new Headers() })
    },
  })
}
