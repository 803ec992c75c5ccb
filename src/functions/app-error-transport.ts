/**
 * Runs on both sides (server serialises, browser deserialises): how application errors cross the server-function boundary.
 *
 * Start serialises a thrown `Error` as its message only, so a guard's `UNAUTHENTICATED` would
 * arrive as an anonymous error. This adapter (registered in `src/start.ts`) carries the catalog
 * code instead, and the client receives an error with the same `data.appCode` a tRPC error has:
 * `getAppErrorCode(error)` reads both alike.
 */
import { createSerializationAdapter } from '@tanstack/react-router'
import { APP_ERROR_CODES, type AppErrorCode } from '../lib/app-errors'

/** An application error thrown by (or returned from) a server function. */
export type ServerFnAppError = Error & {
  data: { appCode: AppErrorCode; httpStatus: number }
  /** Read by Start to choose the HTTP status when the error escapes request middleware. */
  status: number
}

/** Builds the error a server function throws for a catalog code. */
export function createServerFnAppError(appCode: AppErrorCode, message: string, httpStatus: number): ServerFnAppError {
  return Object.assign(new Error(message), { name: 'AppError', data: { appCode, httpStatus }, status: httpStatus })
}

/** True for errors built by `createServerFnAppError` (after deserialisation too). */
export function isServerFnAppError(value: unknown): value is ServerFnAppError {
  if (!(value instanceof Error)) return false
  const data = (value as { data?: { appCode?: unknown; httpStatus?: unknown } }).data
  return typeof data?.appCode === 'string' && (APP_ERROR_CODES as readonly string[]).includes(data.appCode) && typeof data.httpStatus === 'number'
}

/** Serialises only code, message and status: never a stack, a cause or anything a handler attached. */
export const serverFnAppErrorAdapter = createSerializationAdapter({
  key: 'gatehouse-app-error',
  test: isServerFnAppError,
  toSerializable: (error: ServerFnAppError) => ({ appCode: error.data.appCode, message: error.message, httpStatus: error.data.httpStatus }),
  fromSerializable: (value: { appCode: AppErrorCode; message: string; httpStatus: number }) => createServerFnAppError(value.appCode, value.message, value.httpStatus),
})
