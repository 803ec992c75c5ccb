/**
 * Server-only: the SSR transport. Procedures run in this process with a context built from the
 * request being rendered (its cookies, its IP); cookies they set land on that request's response.
 */
import { getRequest, setCookie } from '@tanstack/react-start/server'
import { unstable_localLink, type TRPCLink } from '@trpc/client'
import { parseCookieHeader, type CookieJar } from '../http/cookies'
import { createTRPCContext } from './context'
import { appRouter, type AppRouter } from './root'

function createStartCookieJar(request: Request): CookieJar {
  const incoming = parseCookieHeader(request.headers.get('cookie'))
  return {
    get: (name) => incoming.get(name),
    set: (name, value, options) => {
      setCookie(name, value, options)
      if (options.maxAge === 0) incoming.delete(name)
      else incoming.set(name, value)
    },
  }
}

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
