/**
 * Server-only: serves `/api/trpc/*` with the fetch adapter, behind the CSRF check (SPEC §7).
 *
 * Start's own CSRF protection covers server functions only, so this endpoint enforces the origin
 * rule itself, before tRPC reads the body or builds a context: a refused request runs nothing.
 */
import type { TRPCError } from '@trpc/server'
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { resolveResponse } from '@trpc/server/http'
import { getServerEnv } from '../env'
import { appError } from '../errors'
import { createHeaderCookieJar } from '../http/cookies'
import { checkTrpcRequest, describeCsrfRefusal } from '../http/csrf'
import { createTRPCContext } from './context'
import { appRouter } from './root'

const ENDPOINT = '/api/trpc'

/**
 * Calls per HTTP request. Each call of a batch is rate-limited on its own, but a huge batch
 * would still cost one database round trip per call before the limiter says no.
 */
const MAX_BATCH_SIZE = 50

/** Handles one tRPC HTTP request (batched or single). */
export function handleTrpcRequest(request: Request): Promise<Response> {
  const appOrigin = getServerEnv().appUrl.origin
  const csrf = checkTrpcRequest(request, appOrigin)
  if (!csrf.isAllowed) {
    console.warn(describeCsrfRefusal(request, csrf.reason, appOrigin))
    return respondWithErrorBeforeTrpc(request, appError('CSRF_REJECTED'))
  }
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req: request,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: ({ resHeaders }) =>
      createTRPCContext({ request, cookies: createHeaderCookieJar(request, resHeaders), responseHeaders: resHeaders }),
    onError: ({ error, path }) => {
      // Unexpected failures are logged with their cause for the operator; the client gets the
      // generic INTERNAL_SERVER_ERROR shape without stack or SQL.
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        console.error(`[trpc] ${path ?? '<unknown>'} failed:`, error.cause ?? error)
      }
    },
  })
}

/**
 * Answers with `error` for every call of the request, in tRPC's own response shape (batched or
 * not, through the app's error formatter, so the client reads `data.appCode`). tRPC's "the request
 * had an issue before reaching the handler" hook fails each call before its procedure runs. It is
 * handed a body-less JSON stand-in, so the refused body (form data, text) is never parsed.
 */
function respondWithErrorBeforeTrpc(request: Request, error: TRPCError): Promise<Response> {
  const standIn = new Request(request.url, { method: 'POST', headers: { 'content-type': 'application/json' } })
  const path = new URL(request.url).pathname.slice(ENDPOINT.length).replace(/^\/+|\/+$/g, '')
  const responseHeaders = new Headers()
  return resolveResponse({
    router: appRouter,
    req: standIn,
    path,
    error,
    createContext: async () => createTRPCContext({ request: standIn, cookies: createHeaderCookieJar(standIn, responseHeaders), responseHeaders }),
  })
}
