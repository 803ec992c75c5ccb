/**
 * Server-only: CSRF defence for server-function calls (SPEC §7), the same origin rule as
 * `/api/trpc` (src/server/http/csrf.ts).
 *
 * Start protects server functions only when no `src/start.ts` exists; with our own request
 * middleware list the protection is ours to add. We do not use Start's `createCsrfMiddleware`:
 * it checks `Origin` only when `Sec-Fetch-Site` is absent, compares it with the request URL
 * (behind a TLS-terminating proxy that is the internal http URL, not APP_URL), and falls back to
 * `Referer`; one rule for both entry points is easier to reason about. A refusal reaches the
 * browser as the catalog's CSRF_REJECTED (HTTP 403), like any other server-function error.
 */
import { getServerEnv } from '../env'
import { checkRequestOrigin, describeCsrfRefusal } from '../http/csrf'
import { createSecurityHeaders } from '../http/response-policies'
import { createServerFnCatalogError } from './server-fn-errors'

/** Throws CSRF_REJECTED unless `request` (a server-function call, any method) comes from the app's own origin. */
export function requireSameOriginServerFnRequest(request: Request): void {
  const appOrigin = getServerEnv().appUrl.origin
  const decision = checkRequestOrigin(request.headers, appOrigin)
  if (decision.isAllowed) return
  console.warn(describeCsrfRefusal(request, decision.reason, appOrigin))
  // Start builds the refusal response from this error after our response-policy middleware has
  // been left behind, so the error brings the baseline headers along (Start copies `headers`).
  const headers = createSecurityHeaders()
  headers.set('cache-control', 'no-store')
  throw Object.assign(createServerFnCatalogError('CSRF_REJECTED'), { headers })
}
