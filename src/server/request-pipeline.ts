/**
 * Server-only: the one pipeline every request passes, in development and production alike (the
 * server entry, `src/server.ts`, calls it for every request Start would otherwise see). The request
 * policies run here once, in this order, before any handler:
 *   body limit (413/411) → method list of API routes (405 + `Allow`) → CSRF (403) → dispatch →
 *   security headers and `no-store` on the response.
 * `/api/trpc` is answered here without Start's per-request router (ADR 008: ~30 % less CPU per
 * API call); everything else (pages, server functions, file server routes) goes to Start.
 */
import { getServerEnv } from './env'
import { appError } from './errors'
import { allowedMethods, findApiRoute, type ApiRoute } from './http/api-routes'
import { decideRequestCsrf, describeCsrfRefusal } from './http/csrf'
import { applyResponsePolicies, createSecurityHeaders } from './http/response-policies'
import { CSRF_REFUSED_HEADER, isServerFnPath } from './http/server-fn-requests'
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

  const { pathname } = new URL(request.url)
  const apiRoute = pathname.startsWith('/api/') ? findApiRoute(pathname) : null
  if (apiRoute && !isMethodAllowed(apiRoute, request.method)) {
    return plainResponse(405, 'Method Not Allowed', { allow: allowedMethods(apiRoute).join(', ') })
  }

  const isServerFnCall = isServerFnPath(pathname)
  const isPage = !apiRoute && !isServerFnCall && !pathname.startsWith('/api/')
  // Pages are read with GET and HEAD (POST: see below); PUT, DELETE, PATCH, OPTIONS or TRACE get a
  // cheap 405 instead of a rendered page (CPU an attacker could spend); no CORS is ever granted.
  if (isPage && !['GET', 'HEAD', 'POST'].includes(request.method)) return plainResponse(405, 'Method Not Allowed', { allow: 'GET, HEAD' })
  const appOrigin = getServerEnv().appUrl.origin
  const csrf = decideRequestCsrf(request, { isServerFnCall, apiRoute }, appOrigin)
  let forwarded = request
  if (!csrf.isAllowed) {
    console.warn(describeCsrfRefusal(request, csrf.reason, appOrigin))
    if (apiRoute?.servedBy === 'pipeline') return withResponsePolicies(request, await respondWithTrpcError(request, appError('CSRF_REJECTED')))
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
  if (isPage && request.method === 'POST') return plainResponse(303, 'See Other', { location: pathname })

  const response = apiRoute?.servedBy === 'pipeline' ? await handleTrpcRequest(forwarded) : await serveWithStart(forwarded)
  return withResponsePolicies(forwarded, response)
}
