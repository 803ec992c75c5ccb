/**
 * Reading errors thrown by the in-process caller. `createCaller` throws the raw TRPCError (the
 * error formatter only runs for HTTP responses), so the app code is read from its `AppError` cause.
 */
import { TRPCError } from '@trpc/server'
import { expect } from 'vitest'
import type { AppErrorCode } from '../../src/lib/app-errors'
import { AppError, trpcCodeFor } from '../../src/server/errors'

export type CaughtTrpcError = { code: TRPCError['code']; appCode: AppErrorCode | null; message: string; error: TRPCError }

/** Awaits a call that must fail and returns what failed; a success fails the test. */
export async function catchTrpcError(call: Promise<unknown>): Promise<CaughtTrpcError> {
  let result: unknown
  try {
    result = await call
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error
    const appCode = error.cause instanceof AppError ? error.cause.appCode : null
    return { code: error.code, appCode, message: error.message, error }
  }
  throw new Error(`expected the call to fail, it returned ${JSON.stringify(result)}`)
}

/** Asserts the call fails with this application error (and the tRPC code it maps to). */
export async function expectAppError(call: Promise<unknown>, appCode: AppErrorCode): Promise<CaughtTrpcError> {
  const caught = await catchTrpcError(call)
  expect({ code: caught.code, appCode: caught.appCode, message: caught.message }).toEqual({ code: trpcCodeFor(appCode), appCode, message: expect.any(String) })
  return caught
}

/** Asserts the call fails input validation (zod), i.e. before any handler ran. */
export async function expectValidationError(call: Promise<unknown>): Promise<CaughtTrpcError> {
  const caught = await catchTrpcError(call)
  expect(caught.code).toBe('BAD_REQUEST')
  expect(caught.appCode).toBeNull()
  return caught
}
