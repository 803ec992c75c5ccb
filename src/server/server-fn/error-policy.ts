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
import { CSRF_REFUSED_HEADER, isServerFnPath } from '../http/server-fn-requests'
import { createSecurityHeaders } from '../http/response-policies'

const IS_PRODUCTION = process.env.NODE_ENV === 'production'

const GENERIC_MESSAGE = 'Something went wrong.'

/** True when `request` is a browser's call to a server function, not an SSR render calling one in-process. */
export function isServerFnHttpRequest(request: Request): boolean {
  return isServerFnPath(new URL(request.url).pathname)
}

function fromTrpcAppError(error: TRPCError, appCode: AppErrorCode): ServerFnAppError {
  return createServerFnAppError(appCode, error.message, getHTTPStatusCodeFromError(error))
}

/** The catalog's error for `appCode` (same message and HTTP status as the tRPC error), shaped for server functions. */
export function createServerFnCatalogError(appCode: AppErrorCode): ServerFnAppError {
  return fromTrpcAppError(appError(appCode), appCode)
}

/**
 * Throws CSRF_REJECTED (403) for a call the request pipeline refused. Start builds the response from
 * this error outside any response policy, so the error brings the baseline headers along.
 */
export function refuseServerFnCallMarkedByPipeline(request: Request): void {
  if (!request.headers.has(CSRF_REFUSED_HEADER)) return
  const headers = createSecurityHeaders()
  headers.set('cache-control', 'no-store')
  throw Object.assign(createServerFnCatalogError('CSRF_REJECTED'), { headers })
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
