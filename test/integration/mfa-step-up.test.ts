/**
 * Step-up with a TOTP code (auth.reauthenticate({ code })) and the sensitive MFA procedures it
 * unlocks: mfa.regenerateRecoveryCodes and mfa.disable.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, createTestUser, createTestOrganization, nextTestIp, readUser, requireIssuedToken, signedInCaller, sql } from '../support/auth-fixtures'
import { createMfaTestUser, nextTotpCode, wrongTotpCode } from '../support/mfa-fixtures'
import { expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

const REAUTH_WINDOW_MS = appConfig.session.reauthWindowSeconds * 1000

/** A signed-in (MFA-satisfied) session whose last re-authentication is older than the window. */
async function staleSessionOf(user: { id: string }) {
  const session = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
  advanceClockForTests(REAUTH_WINDOW_MS + 1_000)
  return session
}

async function recoveryCodeHashes(userId: string) {
  const rows = await sql('SELECT code_hash AS codeHash FROM recovery_codes WHERE user_id = ? ORDER BY code_hash', [userId])
  return rows.map((row) => row.codeHash as string)
}

async function auditEventsOf(userId: string) {
  const rows = await sql('SELECT type, details FROM audit_events WHERE subject_user_id = ? ORDER BY id', [userId])
  return rows.map((row) => ({ type: row.type as string, details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details }))
}

async function signInForStatus(email: string, password: string) {
  const { caller } = callerWithResponse({ ip: nextTestIp() })
  return caller.auth.signIn({ email, password })
}

describe('auth.reauthenticate with a TOTP code', () => {
  it('a fresh code stamps a new session token with what it proved; the same code again is a replay and is refused', async () => {
    const { user, secret } = await createMfaTestUser()
    const { caller, sessionId } = await staleSessionOf(user)
    const code = nextTotpCode(secret)
    const { reauthenticatedAt } = await caller.auth.reauthenticate({ code })
    // Session fixation defence (OWASP ASVS 7.2.4): the step-up rotated the token; the old row is gone.
    expect(await sql('SELECT id FROM sessions WHERE id = ?', [sessionId])).toHaveLength(0)
    const [row] = await sql('SELECT reauthenticated_at AS at, reauthenticated_with AS factor FROM sessions WHERE user_id = ?', [user.id])
    expect(row!.at.toISOString()).toBe(reauthenticatedAt)
    expect(row!.factor).toBe('totp')
    expect((await auditEventsOf(user.id)).at(-1)).toEqual({ type: 'auth.reauthenticated', details: { factor: 'totp' } })

    await expectAppError(caller.auth.reauthenticate({ code }), 'INVALID_CODE')
    const [after] = await sql('SELECT reauthenticated_at AS at FROM sessions WHERE user_id = ?', [user.id])
    expect(after!.at.toISOString()).toBe(reauthenticatedAt)
  })

  it('a wrong code is refused and counts toward the account lockout', async () => {
    const { user, secret } = await createMfaTestUser()
    const { caller } = await staleSessionOf(user)
    await expectAppError(caller.auth.reauthenticate({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    const [bucket] = await sql('SELECT count FROM rate_limit_buckets WHERE `key` = ?', [`lockout:untrusted:${user.id}`])
    expect(Number(bucket!.count)).toBe(1)
    await expectAppError(caller.mfa.regenerateRecoveryCodes(), 'REAUTH_REQUIRED')
  })

  it('a user without MFA cannot step up with a code', async () => {
    const { user } = await createTestUser()
    const { caller } = await staleSessionOf(user)
    await expectAppError(caller.auth.reauthenticate({ code: '123456' }), 'INVALID_CODE')
  })
})

describe('mfa.regenerateRecoveryCodes', () => {
  it('needs a recent re-authentication; afterwards replaces the whole set, old codes stop working', async () => {
    const { user, password, secret, recoveryCodes: oldCodes } = await createMfaTestUser()
    const { caller } = await staleSessionOf(user)
    const hashesBefore = await recoveryCodeHashes(user.id)

    await expectAppError(caller.mfa.regenerateRecoveryCodes(), 'REAUTH_REQUIRED')
    expect(await recoveryCodeHashes(user.id)).toEqual(hashesBefore)

    await caller.auth.reauthenticate({ code: nextTotpCode(secret) })
    const { recoveryCodes: newCodes } = await caller.mfa.regenerateRecoveryCodes()
    expect(newCodes).toHaveLength(10)
    expect(newCodes.filter((code) => oldCodes.includes(code))).toEqual([])
    expect(await caller.mfa.status()).toMatchObject({ recoveryCodesRemaining: 10 })
    expect((await auditEventsOf(user.id)).at(-1)).toMatchObject({ type: 'mfa.recovery_codes.regenerated' })

    // At the challenge: an old code is refused, a new one signs in.
    const pendingToken = await pendingTokenFor(user.email, password)
    const pending = callerWithToken(pendingToken).caller
    await expectAppError(pending.mfa.useRecoveryCode({ code: oldCodes[0]! }), 'INVALID_CODE')
    expect(await pending.mfa.useRecoveryCode({ code: newCodes[0]! })).toEqual({ status: 'signed-in', remaining: 9 })
  })

  it('for a user without MFA it is NOT_FOUND', async () => {
    const { user } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await expectAppError(caller.mfa.regenerateRecoveryCodes(), 'NOT_FOUND')
  })
})

describe('mfa.disable', () => {
  it('needs a recent re-authentication; then removes the factor, revokes other sessions and rotates this one', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const current = await staleSessionOf(user)
    const other = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })

    await expectAppError(current.caller.mfa.disable({ currentPassword: password }), 'REAUTH_REQUIRED')
    expect((await readUser(user.id))!.mfaEnabledAt).not.toBeNull()

    await current.caller.auth.reauthenticate({ code: nextTotpCode(secret) })
    expect(await current.caller.mfa.disable({ currentPassword: password })).toEqual({ wasEnabled: true, otherSessionsRevoked: 1 })

    expect((await readUser(user.id))!.mfaEnabledAt).toBeNull()
    const [factorRows] = await sql('SELECT (SELECT COUNT(*) FROM totp_credentials WHERE user_id = ?) AS factors, (SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?) AS codes', [user.id, user.id])
    expect({ factors: Number(factorRows!.factors), codes: Number(factorRows!.codes) }).toEqual({ factors: 0, codes: 0 })
    expect(await other.caller.auth.me()).toBeNull()
    expect(await callerWithToken(current.token).caller.auth.me()).toBeNull()

    const newToken = requireIssuedToken(current.responseHeaders)
    const signedIn = callerWithToken(newToken).caller
    expect(await signedIn.auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: false }, session: { mfaSatisfiedAt: null } })
    expect(await signedIn.mfa.status()).toEqual({ isEnabled: false, enabledAt: null, recoveryCodesRemaining: 0 })
    expect((await auditEventsOf(user.id)).at(-1)).toEqual({ type: 'mfa.disabled', details: { otherSessionsRevoked: 1 } })

    // The next sign-in is password-only.
    expect(await signInForStatus(user.email, password)).toEqual({ status: 'signed-in' })
  })

  it('is refused while the organization requires MFA of this user (FORBIDDEN), nothing changes', async () => {
    const organization = await createTestOrganization({ mfaPolicy: 'required_for_role', mfaRequiredMinRole: 'admin' })
    const { user, password } = await createMfaTestUser({ organizationId: organization.id, role: 'admin' })
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    const refused = await expectAppError(caller.mfa.disable({ currentPassword: password }), 'FORBIDDEN')
    expect(refused.message).toMatch(/requires two-factor authentication/)
    expect((await readUser(user.id))!.mfaEnabledAt).not.toBeNull()
    expect(await caller.auth.me()).toMatchObject({ status: 'signed-in' })

    // A member of the same organization is below the required role and may turn it off.
    const { user: member, password: memberPassword } = await createMfaTestUser({ organizationId: organization.id, role: 'member' })
    const { caller: memberCaller } = await signedInCaller(member, { ip: nextTestIp(), isMfaSatisfied: true })
    expect(await memberCaller.mfa.disable({ currentPassword: memberPassword })).toMatchObject({ wasEnabled: true })
  })
})

/** Password step of a sign-in for an MFA user; the pending token. */
async function pendingTokenFor(email: string, password: string) {
  const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })
  expect(await caller.auth.signIn({ email, password })).toEqual({ status: 'mfa-required' })
  return requireIssuedToken(responseHeaders)
}
