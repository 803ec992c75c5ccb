/**
 * Server-only: the one pipeline every request passes, in development and production alike (the
 * server entry, `src/server.ts`, calls it for every request Start would otherwise see). The request
 * policies run here once, in this order, before any handler:
 *   body limit (413/411) → classification by the routed (decoded) path, 400 when it cannot be
 *   decoded → method list of API routes (405 + `Allow`), 404 for a server-function path without
 *   an id → CSRF (403) → dispatch → security headers and `no-store` on the response.
 * Every decision is keyed on the path Start will route on, never on the raw percent-encoded one
 * (`http/request-target.ts`): `/%5FserverFn/<id>` is a server-function call, `/%61pi/trpc/…` the
 * tRPC endpoint.
 * `/api/trpc` is answered here without Start's per-request router (ADR 008: ~30 % less CPU per
 * API call); everything else (pages, server functions, file server routes) goes to Start.
 */
import { getServerEnv } from './env'
import { appError } from './errors'
import { allowedMethods, type ApiRoute } from './http/api-routes'
import { decideRequestCsrf, describeCsrfRefusal } from './http/csrf'
import { resolveRequestTarget } from './http/request-target'
import { applyResponsePolicies, createSecurityHeaders } from './http/response-policies'
import { CSRF_REFUSED_HEADER } from './http/server-fn-requests'
import { handleTrpcRequest, respondWithTrpcError } from './trpc/http-handler'

/**
 * Request bodies are read whole into memory by tRPC and Start, so an unbounded body is a memory
 * exhaustion attack. 1 MiB covers a full tRPC batch and a SAML response with room to spare.
 */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024

type StartHandler = (request: Request) => Response | Promise<Response>

function plainResponse(status: number, body: string, extraHeaders: Record<string, string> = {}): Response {
  const headers = createSecurityHeaders()
  headers.set('content-type', 'text/plain; charset=utf-8')
  headers.set('cache-control', 'no-store')
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value)
  return new Response(body, { status, headers })
}

/** 413 for a declared body over the limit, 411 for a body without a declared length (browsers always declare it). */
function checkBodyLimit(request: Request): Response | null {
  if (request.method === 'GET' || request.method === 'HEAD') return null
  const declared = request.headers.get('content-length')
  if (declared === null) return request.headers.has('transfer-encoding') ? plainResponse(411, 'Length Required', { connection: 'close' }) : null
  if (Number(declared) > MAX_REQUEST_BODY_BYTES) return plainResponse(413, 'Payload Too Large', { connection: 'close' })
  return null
}

function isMethodAllowed(route: ApiRoute, method: string): boolean {
  return allowedMethods(route).includes(method)
}

/** Policies that need a mutable response: a redirect built by `Response.redirect` has immutable headers. */
function withResponsePolicies(request: Request, response: Response): Response {
  try {
    applyResponsePolicies(request, response)
    return response
  } catch {
    const copy = new Response(response.body, response)
    applyResponsePolicies(request, copy)
    return copy
  }
}

/** Serves one request through the policies above; `serveWithStart` is Start's fetch handler. */
export async function handleRequest(request: Request, serveWithStart: StartHandler): Promise<Response> {
  const refusedBody = checkBodyLimit(request)
  if (refusedBody) return refusedBody

  const url = new URL(request.url)
  const target = resolveRequestTarget(url)
  // Start answers the same for a path it cannot decode, before routing anything.
  if (!target) return plainResponse(400, 'Bad Request')
  const { apiRoute, routedPathname } = target
  if (apiRoute && !isMethodAllowed(apiRoute, request.method)) {
    return plainResponse(405, 'Method Not Allowed', { allow: allowedMethods(apiRoute).join(', ') })
  }

  const isServerFnCall = target.serverFnId !== null
  // `/_serverFn/` or `/_serverFn//x` names no function. Start throws a plain Error for it before
  // any middleware runs (a 500 and a stack in the log), so the unknown-id handling in `src/start.ts`
  // never sees it; it is answered here instead. A plain 404, not Start's wire format: no client
  // ever builds an empty id (a stale id after a deploy is non-empty and gets NOT_FOUND from Start).
  if (target.serverFnId === '') return plainResponse(404, 'Not Found')
  const isPage = !apiRoute && !isServerFnCall && !target.isUnderApi
  // Pages are read with GET and HEAD (POST: see below); PUT, DELETE, PATCH, OPTIONS or TRACE get a
  // cheap 405 instead of a rendered page (CPU an attacker could spend); no CORS is ever granted.
  if (isPage && !['GET', 'HEAD', 'POST'].includes(request.method)) return plainResponse(405, 'Method Not Allowed', { allow: 'GET, HEAD' })
  const appOrigin = getServerEnv().appUrl.origin
  const csrf = decideRequestCsrf(request, { isServerFnCall, apiRoute }, appOrigin)
  let forwarded = request
  if (!csrf.isAllowed) {
    console.warn(describeCsrfRefusal(request, csrf.reason, appOrigin))
    if (apiRoute?.servedBy === 'pipeline') return withResponsePolicies(request, await respondWithTrpcError(request, appError('CSRF_REJECTED'), routedPathname))
    if (!isServerFnCall) return plainResponse(403, 'Request refused: it did not come from this site.')
    const headers = new Headers(request.headers)
    headers.set(CSRF_REFUSED_HEADER, csrf.reason)
    // No body: the refused payload is never parsed.
    forwarded = new Request(request.url, { method: 'GET', headers })
  }

  // Pages take no request bodies: every form posts through tRPC once React has hydrated. A form
  // submitted natively before that (a fast typist on a slow network) posts here; the body is dropped
  // unread and the browser is sent back to the page. The forms say `method="post"` precisely so
  // such a submission never puts an email or a password into a URL (history, logs, Referer).
  // The routed path, not the raw one: a raw `//evil.example/` would be a protocol-relative Location
  // (an open redirect); the routed path always starts with a single `/`.
  if (isPage && request.method === 'POST') return plainResponse(303, 'See Other', { location: routedPathname })

  // tRPC's adapter reads the procedure path from the raw URL, so it is served only at its canonical
  // spelling; another spelling of the same route (`/%61pi/trpc/…`, `//api/trpc/…`), which has
  // passed every check above as that route, is sent there (308 keeps method and body). Browsers
  // and the tRPC client never send one.
  if (apiRoute?.servedBy === 'pipeline' && routedPathname !== url.pathname) {
    return plainResponse(308, 'Permanent Redirect', { location: `${routedPathname}${url.search}` })
  }

  const response = apiRoute?.servedBy === 'pipeline' ? await handleTrpcRequest(forwarded) : await serveWithStart(forwarded)
  return withResponsePolicies(forwarded, response)
}
