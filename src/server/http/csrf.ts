/**
 * Server-only: cross-site request forgery defence for state-changing requests (SPEC §7).
 *
 * Gatehouse authenticates with a cookie, so any page on the web can make the browser send it.
 * Two standard browser signals say where a request really came from, and neither can be set by
 * a script (both are forbidden header names): `Sec-Fetch-Site` (Fetch Metadata) and `Origin`.
 * The decision follows OWASP's CSRF Prevention Cheat Sheet ("Fetch Metadata headers" and
 * "Verifying origin with standard headers"): every signal present must point at our own origin,
 * and a request carrying neither is refused, since every browser that could be tricked into a
 * cross-site request sends at least one of them on a POST.
 *
 * Pure functions over headers, so both sides of every exemption are unit-tested (csrf.test.ts).
 * `decideRequestCsrf` is the one rule the request pipeline applies to every request.
 */
import type { ApiRoute } from './api-routes'

export type CsrfRefusalReason =
  /** `Sec-Fetch-Site` is present and is not `same-origin` (cross-site, same-site sibling, or `none`). */
  | 'cross-site-fetch'
  /** `Origin` is present and is not the app's origin (includes the opaque `null` origin). */
  | 'foreign-origin'
  /** Neither header: nothing proves where the request came from. */
  | 'no-origin-evidence'
  /**
   * A body type an HTML form (or a no-preflight `fetch`) can send cross-site: `text/plain`,
   * `multipart/form-data`, `application/x-www-form-urlencoded`, or anything else but JSON.
   */
  | 'non-json-body'

export type CsrfDecision = { isAllowed: true } | { isAllowed: false; reason: CsrfRefusalReason }

const ALLOWED: CsrfDecision = { isAllowed: true }

/** Methods that must not change state; everything else is treated as a state-changing request. */
const SAFE_METHODS = new Set(['GET', 'HEAD'])

/** Whether the request's `Sec-Fetch-Site` / `Origin` prove it came from `appOrigin` (e.g. `https://auth.example.com`). */
export function checkRequestOrigin(headers: Headers, appOrigin: string): CsrfDecision {
  const fetchSite = headers.get('sec-fetch-site')
  const origin = headers.get('origin')
  // `same-site` is refused too: a sibling subdomain (or a compromised one) is another origin.
  if (fetchSite !== null && fetchSite !== 'same-origin') return { isAllowed: false, reason: 'cross-site-fetch' }
  if (origin !== null && origin !== appOrigin) return { isAllowed: false, reason: 'foreign-origin' }
  if (fetchSite === null && origin === null) return { isAllowed: false, reason: 'no-origin-evidence' }
  return ALLOWED
}

/** The media type of a `Content-Type` header without parameters, lower-cased; null when absent. */
export function getMediaType(contentType: string | null): string | null {
  if (contentType === null) return null
  return contentType.split(';', 1)[0]!.trim().toLowerCase()
}

/**
 * The CSRF decision for a request to `/api/trpc`. Queries travel as GET and change nothing (tRPC
 * refuses a mutation sent as GET with METHOD_NOT_SUPPORTED); every other method must come from our
 * origin and carry a JSON body. JSON cannot be sent cross-site without a CORS preflight, which
 * Gatehouse never grants, and tRPC would otherwise parse `multipart/form-data` inputs itself.
 */
export function checkTrpcRequest(request: { method: string; headers: Headers }, appOrigin: string): CsrfDecision {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return ALLOWED
  const originDecision = checkRequestOrigin(request.headers, appOrigin)
  if (!originDecision.isAllowed) return originDecision
  if (getMediaType(request.headers.get('content-type')) !== 'application/json') return { isAllowed: false, reason: 'non-json-body' }
  return ALLOWED
}

/** Methods that never change state on any route (RFC 9110 §9.2.1 safe methods). */
const SAFE_METHODS_ON_ANY_ROUTE = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The CSRF decision for any request, made once by the request pipeline before a handler runs:
 * - a server-function call must come from our origin whatever its method (it is an RPC: a GET
 *   server function still runs code with the caller's session);
 * - safe methods pass;
 * - a state-changing request to a listed API route follows the route's stance (`api-routes.ts`);
 * - a state-changing request to anything else (a page, a new route) needs our origin: the default
 *   is refusal, so a route added tomorrow is protected without its author remembering.
 */
export function decideRequestCsrf(request: { method: string; headers: Headers }, target: { isServerFnCall: boolean; apiRoute: ApiRoute | null }, appOrigin: string): CsrfDecision {
  if (target.isServerFnCall) return checkRequestOrigin(request.headers, appOrigin)
  if (SAFE_METHODS_ON_ANY_ROUTE.has(request.method.toUpperCase())) return ALLOWED
  switch (target.apiRoute?.csrf) {
    case 'exempt':
      return ALLOWED
    case 'same-origin-json':
      return checkTrpcRequest(request, appOrigin)
    default:
      return checkRequestOrigin(request.headers, appOrigin)
  }
}

/**
 * One log line for a refusal. A wave of `foreign-origin` refusals from real users usually means
 * APP_URL does not match the origin they browse, so the line names both.
 */
export function describeCsrfRefusal(request: Request, reason: CsrfRefusalReason, appOrigin: string): string {
  const { pathname } = new URL(request.url)
  const origin = JSON.stringify(request.headers.get('origin'))
  const fetchSite = JSON.stringify(request.headers.get('sec-fetch-site'))
  const contentType = JSON.stringify(getMediaType(request.headers.get('content-type')))
  return `[csrf] refused ${request.method} ${pathname}: ${reason} (Origin ${origin}, Sec-Fetch-Site ${fetchSite}, Content-Type ${contentType}; APP_URL origin ${appOrigin})`
}
