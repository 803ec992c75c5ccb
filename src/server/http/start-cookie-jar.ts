/**
 * Server-only: a cookie jar over Start's request context, for code that runs inside a Start
 * request (server functions, SSR): reads the request's `Cookie` header, writes through Start's
 * `setCookie` so the cookie lands on that request's response.
 */
import { setCookie } from '@tanstack/react-start/server'
import { parseCookieHeader, type CookieJar } from '../http/cookies'

/** A jar for the Start request `request`; later reads see what this request has set. */
export function createStartCookieJar(request: Request): CookieJar {
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
