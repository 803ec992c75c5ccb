import { redirect } from '@tanstack/react-router'
import { describe, expect, it, vi } from 'vitest'
import { createServerFnAppError, isServerFnAppError, serverFnAppErrorAdapter } from '../../functions/app-error-transport'
import { getAppErrorCode } from '../../lib/app-errors'
import { appError } from '../errors'
import { requireServerFnRole, type ServerFnSession } from './guards'
import { CSRF_REFUSED_HEADER } from '../http/server-fn-requests'
import { createServerFnCatalogError, refuseServerFnCallFromAnotherSite, toClientSafeServerFnError } from './error-policy'

describe('createServerFnCatalogError', () => {
  it.each([
    ['UNAUTHENTICATED', 401, 'Please sign in.'],
    ['MFA_REQUIRED', 401, null],
    ['MFA_ENROLLMENT_REQUIRED', 403, null],
    ['FORBIDDEN', 403, null],
    ['CSRF_REJECTED', 403, 'Request refused.'],
    ['RATE_LIMITED', 429, null],
  ] as const)('%s carries the tRPC catalog status %i and message', (appCode, httpStatus, message) => {
    const error = createServerFnCatalogError(appCode)
    expect(error.data).toEqual({ appCode, httpStatus })
    expect(error.status).toBe(httpStatus)
    expect(error.message).toBe(appError(appCode).message)
    if (message) expect(error.message).toBe(message)
    // The client reads it exactly like a tRPC error.
    expect(getAppErrorCode(error)).toBe(appCode)
  })
})

describe('requireServerFnRole', () => {
  const sessionWithRole = (role: string) => ({ user: { role } }) as unknown as ServerFnSession

  it('refuses a member where admin is required (FORBIDDEN, 403)', () => {
    expect(() => requireServerFnRole(sessionWithRole('member'), 'admin')).toThrow(expect.objectContaining({ data: { appCode: 'FORBIDDEN', httpStatus: 403 } }))
  })

  it('lets admin and owner through an "at least admin" requirement', () => {
    expect(() => requireServerFnRole(sessionWithRole('admin'), 'admin')).not.toThrow()
    expect(() => requireServerFnRole(sessionWithRole('owner'), 'admin')).not.toThrow()
  })

  it('treats a list as "one of these": owner is refused where only member or admin may act', () => {
    expect(() => requireServerFnRole(sessionWithRole('owner'), ['member', 'admin'])).toThrow(expect.objectContaining({ data: expect.objectContaining({ appCode: 'FORBIDDEN' }) }))
    expect(() => requireServerFnRole(sessionWithRole('member'), ['member', 'admin'])).not.toThrow()
  })

  it('refuses a role the configuration does not know (a stale or tampered row)', () => {
    expect(() => requireServerFnRole(sessionWithRole('superuser'), 'member')).toThrow(expect.objectContaining({ data: expect.objectContaining({ appCode: 'FORBIDDEN' }) }))
  })
})

describe('toClientSafeServerFnError', () => {
  const sqlError = new Error("Failed query: select `id`, `secret_hash` from `sessions` where `sessions`.`id` = ? params: abc")

  it('in production, replaces an unexpected error (a driver message with SQL) by a generic one', () => {
    const safe = toClientSafeServerFnError(sqlError, { isProduction: true })
    expect(safe.isUnexpected).toBe(true)
    expect(safe.httpStatus).toBe(500)
    expect((safe.error as Error).message).toBe('Something went wrong.')
    expect(JSON.stringify(safe.error)).not.toContain('secret_hash')
  })

  it('in development, keeps the original error for the developer', () => {
    expect(toClientSafeServerFnError(sqlError, { isProduction: false }).error).toBe(sqlError)
  })

  it('converts a tRPC catalog error thrown by shared server code, keeping code, message and status', () => {
    const safe = toClientSafeServerFnError(appError('RATE_LIMITED'), { isProduction: true })
    expect(safe.isUnexpected).toBe(false)
    expect(safe.httpStatus).toBe(429)
    expect(getAppErrorCode(safe.error)).toBe('RATE_LIMITED')
  })

  it('passes catalog errors and redirects through untouched', () => {
    const catalog = createServerFnCatalogError('FORBIDDEN')
    expect(toClientSafeServerFnError(catalog, { isProduction: true })).toEqual({ error: catalog, httpStatus: 403, isUnexpected: false })
    const toLogin = redirect({ href: '/login' })
    expect(toClientSafeServerFnError(toLogin, { isProduction: true })).toEqual({ error: toLogin, httpStatus: null, isUnexpected: false })
  })
})

describe('serverFnAppErrorAdapter', () => {
  it('round-trips code, message and status, and nothing else (no stack, no attached data)', () => {
    const original = Object.assign(createServerFnAppError('MFA_REQUIRED', 'Enter the code.', 401), { secret: 'do-not-send' })
    expect(serverFnAppErrorAdapter.test(original)).toBe(true)
    const wire = serverFnAppErrorAdapter.toSerializable(original)
    expect(wire).toEqual({ appCode: 'MFA_REQUIRED', message: 'Enter the code.', httpStatus: 401 })
    const received = serverFnAppErrorAdapter.fromSerializable(wire)
    expect(isServerFnAppError(received)).toBe(true)
    expect(getAppErrorCode(received)).toBe('MFA_REQUIRED')
  })

  it('ignores ordinary errors and look-alikes with an unknown code', () => {
    expect(serverFnAppErrorAdapter.test(new Error('boom'))).toBe(false)
    expect(serverFnAppErrorAdapter.test(Object.assign(new Error('x'), { data: { appCode: 'NOT_A_CODE', httpStatus: 400 } }))).toBe(false)
    expect(serverFnAppErrorAdapter.test({ data: { appCode: 'FORBIDDEN', httpStatus: 403 } })).toBe(false)
  })
})

describe('refuseServerFnCallFromAnotherSite (run wherever Start itself classifies a call as a server function)', () => {
  const APP_ORIGIN = 'https://gatehouse.example'
  const call = (path: string, headers: Record<string, string>) => new Request(`${APP_ORIGIN}${path}`, { headers })
  const refusalOf = (request: Request): unknown => {
    try {
      refuseServerFnCallFromAnotherSite(request, APP_ORIGIN)
      return null
    } catch (error) {
      return error
    }
  }

  it('a cross-site call whose path spelling the pipeline missed (percent-encoded /_serverFn/) is refused with CSRF_REJECTED and logged', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const refusal = refusalOf(call('/%5FserverFn/abc', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }))
    expect(isServerFnAppError(refusal) && refusal.data).toEqual({ appCode: 'CSRF_REJECTED', httpStatus: 403 })
    expect((refusal as { headers: Headers }).headers.get('cache-control')).toBe('no-store')
    expect(warn).toHaveBeenCalledOnce()
    expect(String(warn.mock.calls[0]![0])).toMatch(/^\[csrf\] refused GET \/%5FserverFn\/abc: cross-site-fetch .*server-function middleware/)
  })

  it('a call with neither Origin nor Sec-Fetch-Site is refused', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    expect(getAppErrorCode(refusalOf(call('/_serverFn/abc', {})))).toBe('CSRF_REJECTED')
  })

  it('a call the pipeline already refused (and logged) is refused without a second log line', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const marked = call('/_serverFn/abc', { [CSRF_REFUSED_HEADER]: 'cross-site-fetch', 'sec-fetch-site': 'same-origin' })
    expect(getAppErrorCode(refusalOf(marked))).toBe('CSRF_REJECTED')
    expect(warn).not.toHaveBeenCalled()
  })

  it('the other side: a call from our own page passes', () => {
    expect(refusalOf(call('/_serverFn/abc', { 'sec-fetch-site': 'same-origin' }))).toBeNull()
    expect(refusalOf(call('/_serverFn/abc', { origin: APP_ORIGIN }))).toBeNull()
  })
})
