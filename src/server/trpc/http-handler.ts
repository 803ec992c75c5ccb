/**
 * Server-only: serves `/api/trpc/*` with tRPC's fetch adapter. The request pipeline
 * (`src/server/request-pipeline.ts`) has already applied the method list, the CSRF rule and
 * the body limit; a refused request reaches `respondWithTrpcError` instead and runs nothing.
 */
import type { TRPCError } from '@trpc/server'
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { resolveResponse } from '@trpc/server/http'
import { createHeaderCookieJar } from '../http/cookies'
import { createRequestContext } from '../request-context'
import { appRouter } from './root'

const ENDPOINT = '/api/trpc'

/**
 * Calls per HTTP request. Each call of a batch is rate-limited on its own, but a huge batch
 * would still cost one database round trip per call before the limiter says no.
 */
const MAX_BATCH_SIZE = 50

/** Handles one tRPC HTTP request (batched or single). */
export function handleTrpcRequest(request: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req: request,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: ({ resHeaders }) => createRequestContext({ request, cookies: createHeaderCookieJar(request, resHeaders), responseHeaders: resHeaders }),
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
export function respondWithTrpcError(request: Request, error: TRPCError, routedPathname: string = new URL(request.url).pathname): Promise<Response> {
  const standIn = new Request(request.url, { method: 'POST', headers: { 'content-type': 'application/json' } })
  const path = routedPathname.slice(ENDPOINT.length).replace(/^\/+|\/+$/g, '')
  const responseHeaders = new Headers()
  return resolveResponse({
    router: appRouter,
    req: standIn,
    path,
    error,
    createContext: async () => createRequestContext({ request: standIn, cookies: createHeaderCookieJar(standIn, responseHeaders), responseHeaders }),
  })
}
