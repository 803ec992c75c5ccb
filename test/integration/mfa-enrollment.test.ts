/**
 * Enrollment through the router (mfa.status, mfa.beginEnrollment, mfa.confirmEnrollment): the key
 * is shown once, the factor is active only after a code, the enrolling session becomes
 * MFA-satisfied with a new token, other sessions die, and binding a factor needs a recent
 * re-authentication.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, createTestUser, nextTestIp, readUser, requireIssuedToken, signedInCaller, sql } from '../support/auth-fixtures'
import { createMfaTestUser, currentTotpCode, nextTotpCode, wrongTotpCode } from '../support/mfa-fixtures'
import { expectAppError, expectValidationError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

const REAUTH_WINDOW_MS = appConfig.session.reauthWindowSeconds * 1000

async function auditTypesOf(userId: string) {
  const rows = await sql('SELECT type, details FROM audit_events WHERE subject_user_id = ? ORDER BY id', [userId])
  return rows.map((row) => ({ type: row.type as string, details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details }))
}

async function credentialRows(userId: string) {
  return sql('SELECT id, confirmed_at AS confirmedAt FROM totp_credentials WHERE user_id = ? ORDER BY created_at', [userId])
}

describe('first enrollment from settings', () => {
  it('shows the key once, activates only after a valid code, returns 10 recovery codes, and signs this session in with MFA', async () => {
    const { user } = await createTestUser()
    const current = await signedInCaller(user, { ip: nextTestIp() })
    const other = await signedInCaller(user, { ip: nextTestIp() })

    expect(await current.caller.mfa.status()).toEqual({ isEnabled: false, enabledAt: null, recoveryCodesRemaining: 0 })
    const enrollment = await current.caller.mfa.beginEnrollment()
    expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(new URL(enrollment.otpauthUri).searchParams.get('secret')).toBe(enrollment.secret)
    expect(enrollment.qrCode).toMatch(/^<svg[\s\S]*<\/svg>\s*$/)
    // Beginning is not enabling: status, the user row and the viewer are unchanged.
    expect((await readUser(user.id))!.mfaEnabledAt).toBeNull()
    expect(await current.caller.auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: false } })

    await expectAppError(current.caller.mfa.confirmEnrollment({ code: wrongTotpCode(enrollment.secret) }), 'INVALID_CODE')
    expect((await readUser(user.id))!.mfaEnabledAt).toBeNull()
    expect(await other.caller.auth.me()).toMatchObject({ status: 'signed-in' })

    const { recoveryCodes } = await current.caller.mfa.confirmEnrollment({ code: currentTotpCode(enrollment.secret) })
    expect(recoveryCodes).toHaveLength(10)
    expect(new Set(recoveryCodes).size).toBe(10)
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{4}(?:-[0-9a-z]{4}){5}$/)

    // This session: new token, MFA satisfied; the old token is dead.
    const newToken = requireIssuedToken(current.responseHeaders)
    expect(newToken).not.toBe(current.token)
    expect(await callerWithToken(current.token).caller.auth.me()).toBeNull()
    const signedIn = callerWithToken(newToken).caller
    expect(await signedIn.auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: true }, session: { mfaSatisfiedAt: expect.any(String) } })
    expect(await signedIn.mfa.status()).toEqual({ isEnabled: true, enabledAt: expect.any(String), recoveryCodesRemaining: 10 })
    // A code from the factor bound a moment ago is no proof of who is present: no re-auth stamp.
    const [row] = await sql('SELECT reauthenticated_at AS reauthenticatedAt FROM sessions WHERE id = ?', [newToken.split('.')[0]])
    expect(row!.reauthenticatedAt.getTime()).toBe(current.session.reauthenticatedAt.getTime())

    // Other sessions never proved the factor the account now demands: revoked.
    expect(await other.caller.auth.me()).toBeNull()
    expect((await auditTypesOf(user.id)).at(-1)).toEqual({ type: 'mfa.enrolled', details: { isReEnrollment: false, otherSessionsRevoked: 1 } })
  })

  it('the key is never returned again: status carries no secret, and a new begin makes a new key', async () => {
    const { user } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    const first = await caller.mfa.beginEnrollment()
    const status = await caller.mfa.status()
    expect(JSON.stringify(status)).not.toContain(first.secret)
    const second = await caller.mfa.beginEnrollment()
    expect(second.secret).not.toBe(first.secret)
    expect(await credentialRows(user.id)).toHaveLength(1)
    await expectAppError(caller.mfa.confirmEnrollment({ code: currentTotpCode(first.secret) }), 'INVALID_CODE')
  })

  it('confirming without a started enrollment is NOT_FOUND and writes nothing', async () => {
    const { user } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await expectAppError(caller.mfa.confirmEnrollment({ code: '123456' }), 'NOT_FOUND')
    expect(await credentialRows(user.id)).toHaveLength(0)
  })

  it('malformed codes fail validation', async () => {
    const { user } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await caller.mfa.beginEnrollment()
    for (const code of ['', '12345', 'abcdef', '1234567']) await expectValidationError(caller.mfa.confirmEnrollment({ code }))
    expect((await readUser(user.id))!.mfaEnabledAt).toBeNull()
  })

  it('stolen session binding its own authenticator: without a recent re-authentication, beginning is refused (REAUTH_REQUIRED)', async () => {
    const { user, password } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    advanceClockForTests(REAUTH_WINDOW_MS + 1_000)
    await expectAppError(caller.mfa.beginEnrollment(), 'REAUTH_REQUIRED')
    expect(await credentialRows(user.id)).toHaveLength(0)
    await caller.auth.reauthenticate({ password })
    expect((await caller.mfa.beginEnrollment()).secret).toMatch(/^[A-Z2-7]{32}$/)
  })

  it('an anonymous caller is refused', async () => {
    const anonymous = callerWithResponse({ ip: nextTestIp() }).caller
    await expectAppError(anonymous.mfa.status(), 'UNAUTHENTICATED')
    await expectAppError(anonymous.mfa.beginEnrollment(), 'UNAUTHENTICATED')
  })
})

describe('re-enrollment', () => {
  it('needs a recent re-authentication; the old factor works until the new one is confirmed; then other sessions are revoked', async () => {
    const { user, secret: oldSecret } = await createMfaTestUser()
    const current = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    const other = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    advanceClockForTests(REAUTH_WINDOW_MS + 1_000)

    await expectAppError(current.caller.mfa.beginEnrollment(), 'REAUTH_REQUIRED')
    await current.caller.auth.reauthenticate({ code: nextTotpCode(oldSecret) })
    const { secret: newSecret } = await current.caller.mfa.beginEnrollment()
    expect(newSecret).not.toBe(oldSecret)

    // Abandoning half-way must not lock the user out: the old factor still steps up.
    await other.caller.auth.reauthenticate({ code: nextTotpCode(oldSecret) })

    await current.caller.mfa.confirmEnrollment({ code: currentTotpCode(newSecret) })
    const newToken = requireIssuedToken(current.responseHeaders)
    expect(await other.caller.auth.me()).toBeNull()
    const signedIn = callerWithToken(newToken).caller
    expect(await signedIn.auth.me()).toMatchObject({ status: 'signed-in', session: { mfaSatisfiedAt: expect.any(String) } })
    await expectAppError(signedIn.auth.reauthenticate({ code: nextTotpCode(oldSecret) }), 'INVALID_CODE')
    await signedIn.auth.reauthenticate({ code: currentTotpCode(newSecret) })
    expect((await auditTypesOf(user.id)).find((event) => event.type === 'mfa.enrolled' && event.details.isReEnrollment)).toEqual({
      type: 'mfa.enrolled',
      details: { isReEnrollment: true, otherSessionsRevoked: 1 },
    })
  })
})
