/** Server-only: the per-response policies of `src/start.ts`, kept here so the client never loads them. */
import { getSessionCookieName } from '../auth/session-cookie'
import { getServerEnv } from '../env'
import { findCspNonce } from './csp-nonce'
import { applySecurityHeaders } from './security-headers'

/**
 * True when a response belongs to a session: the request carried the session cookie, or the
 * response sets or clears it (sign-in, sign-out, rotation).
 */
export function isSessionResponse(request: Request, response: Response, appUrl: URL): boolean {
  const cookieName = getSessionCookieName(appUrl)
  // A name match is enough here (runs on every response; the context already parsed the header):
  // a false positive only adds `no-store`, which is always safe.
  const cookieHeader = request.headers.get('cookie')
  if (cookieHeader && (cookieHeader.startsWith(`${cookieName}=`) || cookieHeader.includes(` ${cookieName}=`) || cookieHeader.includes(`;${cookieName}=`))) return true
  return response.headers.getSetCookie().some((cookie) => cookie.startsWith(`${cookieName}=`))
}

function securityHeaderOptions() {
  const env = getServerEnv()
  return { isDevelopment: env.mode === 'development', isHttps: env.appUrl.protocol === 'https:' }
}

/** The baseline security headers, for responses built outside the request middleware's reach. */
export function createSecurityHeaders(): Headers {
  const headers = new Headers()
  applySecurityHeaders(headers, securityHeaderOptions())
  return headers
}

/**
 * Applies security headers according to the running environment, and `Cache-Control: no-store`
 * to every response that belongs to a session (SPEC §7; OWASP ASVS 8.2.1): a page or procedure
 * result rendered for one user must never be stored by a shared cache or left in the browser's
 * disk cache for the next person at the machine. It overrides whatever a handler chose.
 */
export function applyResponsePolicies(request: Request, response: Response): void {
  applySecurityHeaders(response.headers, { ...securityHeaderOptions(), nonce: findCspNonce(request) })
  if (isSessionResponse(request, response, getServerEnv().appUrl)) response.headers.set('cache-control', 'no-store')
}
