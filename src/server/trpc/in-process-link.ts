/**
 * Server-only: the SSR transport. Procedures run in this process with a context built from the
 * request being rendered (its cookies, its IP); cookies they set land on that request's response.
 */
import { getRequest } from '@tanstack/react-start/server'
import { unstable_localLink, type TRPCLink } from '@trpc/client'
import { createStartCookieJar } from '../http/start-cookie-jar'
import { createRequestContext } from '../request-context'
import { appRouter, type AppRouter } from './root'

/** A terminating link that calls `appRouter` directly for the current SSR request. */
export function createInProcessLink(): TRPCLink<AppRouter> {
  return unstable_localLink({
    router: appRouter,
    createContext: async () => {
      const request = getRequest()
      return createRequestContext({ request, cookies: createStartCookieJar(request), responseHeaders: new Headers() })
    },
  })
}
