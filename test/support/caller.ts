/**
 * Calls procedures in-process, as SSR does: a Request carrying the given cookies and headers,
 * and a jar that records what the procedure set.
 */
import { createHeaderCookieJar } from '../../src/server/http/cookies'
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
}

/** A caller plus the response headers its calls wrote (for `set-cookie` assertions). */
export function callerWithResponse(options: CallerOptions = {}) {
  const headers = new Headers(options.headers)
  if (options.cookie) headers.set('cookie', options.cookie)
  const request = new Request('http://localhost:3000/api/trpc', { headers })
  if (options.ip) Object.defineProperty(request, 'ip', { value: options.ip })
  const responseHeaders = new Headers()
  const caller = createCaller(() => createRequestContext({ request, cookies: createHeaderCookieJar(request, responseHeaders), responseHeaders }))
  return { caller, responseHeaders }
}

/** Just the caller. */
export function callerFor(options: CallerOptions = {}) {
  return callerWithResponse(options).caller
}
