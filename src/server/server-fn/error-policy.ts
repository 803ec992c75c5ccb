/**
 * Server-only: what a server function may throw back to the browser (SPEC §7: a production error
 * never leaks a stack trace, SQL, secret, hash or token).
 *
 * Start would serialise any thrown error's message, and a driver error's message is the failed
 * SQL with its parameters. So every server function passes through one global middleware
 * (`src/start.ts`) that lets the error catalog, redirects and not-found through, and turns
 * anything else into a generic error after logging the cause for the operator.
 */
import { isNotFound, isRedirect } from '@tanstack/react-router'
import { getRequest, setResponseStatus } from '@tanstack/react-start/server'
import { TRPCError } from '@trpc/server'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import { createServerFnAppError, isServerFnAppError, type ServerFnAppError } from '../../functions/app-error-transport'
import type { AppErrorCode } from '../../lib/app-errors'
import { AppError, appError } from '../errors'
import { getServerEnv } from '../env'
import { checkRequestOrigin, describeCsrfRefusal } from '../http/csrf'
import { isServerFnHttpRequest } from '../http/request-target'
import { CSRF_REFUSED_HEADER } from '../http/server-fn-requests'
import { createSecurityHeaders } from '../http/response-policies'

const IS_PRODUCTION = process.env.NODE_ENV === 'production'

const GENERIC_MESSAGE = 'Something went wrong.'

function fromTrpcAppError(error: TRPCError, appCode: AppErrorCode): ServerFnAppError {
  return createServerFnAppError(appCode, error.message, getHTTPStatusCodeFromError(error))
}

/** The catalog's error for `appCode` (same message and HTTP status as the tRPC error), shaped for server functions. */
export function createServerFnCatalogError(appCode: AppErrorCode): ServerFnAppError {
  return fromTrpcAppError(appError(appCode), appCode)
}

/** CSRF_REJECTED (403) in Start's wire format, with the baseline headers (Start builds this response outside any response policy). */
function createCsrfRefusal(): ServerFnAppError {
  const headers = createSecurityHeaders()
  headers.set('cache-control', 'no-store')
  return Object.assign(createServerFnCatalogError('CSRF_REJECTED'), { headers })
}

/**
 * Throws CSRF_REJECTED (403) for a server-function call that did not come from our origin. Runs
 * for every request Start dispatches as a server function (`handlerType === 'serverFn'`), before
 * Start parses a payload or resolves the function:
 * - a call the request pipeline already refused carries its mark, and stops here unlogged (the
 *   pipeline logged it);
 * - anything else is checked again with the pipeline's own rule. The pipeline classifies the path
 *   the way Start does (`request-target.ts`), but only Start's own classification is certain: a
 *   spelling the pipeline took for a page (a percent-encoded `/_serverFn/`, once a real bypass) is
 *   still refused here, and logged as having got past the pipeline.
 */
export function refuseServerFnCallFromAnotherSite(request: Request, appOrigin: string = getServerEnv().appUrl.origin): void {
  if (request.headers.has(CSRF_REFUSED_HEADER)) throw createCsrfRefusal()
  const decision = checkRequestOrigin(request.headers, appOrigin)
  if (decision.isAllowed) return
  console.warn(`${describeCsrfRefusal(request, decision.reason, appOrigin)} [refused by the server-function middleware: the pipeline did not classify this path as a server function]`)
  throw createCsrfRefusal()
}

/**
 * Start's own errors for a call to an id it does not know (or may not serve to the browser): plain
 * `Error`s, matched by their fixed wording, so an unknown or probed id answers 404, not 500.
 */
const UNKNOWN_SERVER_FN_MESSAGES = ['Server function info not found for ', 'Server function not accessible from client: ']

/** True when `error` is Start refusing an unknown server-function id. */
export function isUnknownServerFnError(error: unknown): boolean {
  return error instanceof Error && UNKNOWN_SERVER_FN_MESSAGES.some((prefix) => error.message.startsWith(prefix))
}

/** Runs the rest of a server-function request, turning an unknown id into the catalog's NOT_FOUND (404). */
export async function answerUnknownServerFnAsNotFound<T>(next: () => T | Promise<T>): Promise<T> {
  try {
    return await next()
  } catch (error) {
    if (isUnknownServerFnError(error)) throw createServerFnCatalogError('NOT_FOUND')
    throw error
  }
}

/**
 * What may leave the server for an error a server function threw: catalog errors (from the
 * server-function guards, or a tRPC `appError` thrown by shared server code), redirects, not-found
 * and thrown Responses as they are; anything else as a generic error in production.
 */
export function toClientSafeServerFnError(
  error: unknown,
  options: { isProduction: boolean } = { isProduction: IS_PRODUCTION },
): { error: unknown; httpStatus: number | null; isUnexpected: boolean } {
  if (isRedirect(error) || isNotFound(error) || error instanceof Response) return { error, httpStatus: null, isUnexpected: false }
  if (isServerFnAppError(error)) return { error, httpStatus: error.data.httpStatus, isUnexpected: false }
  if (error instanceof TRPCError && error.cause instanceof AppError) {
    const converted = fromTrpcAppError(error, error.cause.appCode)
    return { error: converted, httpStatus: converted.data.httpStatus, isUnexpected: false }
  }
  return { error: options.isProduction ? new Error(GENERIC_MESSAGE) : error, httpStatus: 500, isUnexpected: true }
}

/**
 * Handles a failed server-function call: logs an unexpected cause for the operator, sets the HTTP
 * status when the browser called over HTTP, and returns what to throw to the caller. An SSR render
 * that calls a server function in-process keeps its page status: its loader decides what the page
 * becomes (usually a redirect to /login).
 */
export function prepareServerFnFailure(error: unknown, functionName: string): unknown {
  const safe = toClientSafeServerFnError(error)
  if (safe.isUnexpected) console.error(`[server-fn] ${functionName} failed:`, error)
  if (safe.httpStatus !== null && isServerFnHttpRequest(getRequest())) setResponseStatus(safe.httpStatus)
  return safe.error
}
