/**
 * Calls procedures in-process, as SSR does: a Request carrying the given cookies and headers,
 * and a jar that records what the procedure set.
 */
import { createHeaderCookieJar, parseCookieHeader } from '../../src/server/http/cookies'
import { createRequestContext } from '../../src/server/request-context'
import { createCaller } from '../../src/server/trpc/root'

export type CallerOptions = {
  cookie?: string
  headers?: Record<string, string>
  /**
   * The client's socket address, as the server adapter would report it. In-process requests have
   * none (every caller shares the IP `unknown`, so one test's rate-limit budget would leak into
   * the next); give callers distinct addresses unless a test is about the shared budget.
   */
  ip?: string
  /**
   * Keep cookies the server sets for the next call, as a browser does (a rotated session token
   * replaces the old one). Off by default: most tests pin one cookie to see exactly what it may do.
   */
  followCookies?: boolean
}

/**
 * The request context the HTTP handler would build for these options, as a context factory for
 * any router's caller (`createCallerFactory(router)(testRequestContext(options))`). Response
 * headers the procedures set (cookies) land in `responseHeaders`.
 */
export function testRequestContext(options: CallerOptions = {}, responseHeaders = new Headers()) {
  const followed = parseCookieHeader(options.cookie ?? null)
  return () => {
    const headers = new Headers(options.headers)
    const cookie = options.followCookies ? [...followed].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ') : options.cookie
    if (cookie) headers.set('cookie', cookie)
    const request = new Request('http://localhost:3000/api/trpc', { headers })
    if (options.ip) Object.defineProperty(request, 'ip', { value: options.ip })
    const cookies = options.followCookies ? createHeaderCookieJar(request, responseHeaders, followed) : createHeaderCookieJar(request, responseHeaders)
    return createRequestContext({ request, cookies, responseHeaders })
  }
}

/** A caller of `appRouter` plus the response headers its calls wrote (for `set-cookie` assertions). */
export function callerWithResponse(options: CallerOptions = {}) {
  const responseHeaders = new Headers()
  return { caller: createCaller(testRequestContext(options, responseHeaders)), responseHeaders }
}

/** Just the caller. */
export function callerFor(options: CallerOptions = {}) {
  return callerWithResponse(options).caller
}
