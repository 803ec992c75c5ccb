import { TRPCError } from '@trpc/server'
import { describe, expect, it } from 'vitest'
import { DatabaseUnavailableError, isDatabaseUnavailableError } from './availability'

function driverError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`driver says ${code}`), { code, ...extra })
}

describe('isDatabaseUnavailableError', () => {
  it('recognises our timeouts, network failures and server-gone errors', () => {
    expect(isDatabaseUnavailableError(new DatabaseUnavailableError('DATABASE_ACQUIRE_TIMEOUT', 'x'))).toBe(true)
    for (const code of ['DATABASE_QUERY_TIMEOUT', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN']) {
      expect(isDatabaseUnavailableError(driverError(code)), code).toBe(true)
    }
  })

  it('finds the cause through the wrappers drizzle and tRPC put around it', () => {
    const drizzleError = Object.assign(new Error('Failed query: select 1'), { cause: driverError('DATABASE_QUERY_TIMEOUT') })
    const trpcError = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: drizzleError })
    expect(isDatabaseUnavailableError(trpcError)).toBe(true)
  })

  it('a bug or a constraint violation is not an outage (it stays a 500 or its own mapping)', () => {
    expect(isDatabaseUnavailableError(driverError('ER_DUP_ENTRY'))).toBe(false)
    expect(isDatabaseUnavailableError(driverError('ER_PARSE_ERROR'))).toBe(false)
    expect(isDatabaseUnavailableError(driverError('ER_LOCK_DEADLOCK'))).toBe(false)
    expect(isDatabaseUnavailableError(new TypeError('undefined is not a function'))).toBe(false)
    expect(isDatabaseUnavailableError(new TRPCError({ code: 'UNAUTHORIZED' }))).toBe(false)
    expect(isDatabaseUnavailableError(null)).toBe(false)
    expect(isDatabaseUnavailableError('ETIMEDOUT')).toBe(false)
  })

  it('a cyclic cause chain ends', () => {
    const a: Error & { cause?: unknown } = new Error('a')
    a.cause = a
    expect(isDatabaseUnavailableError(a)).toBe(false)
  })
})
