/**
 * account.changePassword and auth.reauthenticate: a stolen long-lived session cannot change the
 * password (step-up within reauthWindowSeconds, NIST 800-63B §4.2.3), the current password is
 * required, and a change revokes every other session and rotates this one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { parseSessionToken } from '../../src/server/auth/session'
import { verifyPassword } from '../../src/server/auth/password'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, countRows, createTestUser, nextTestIp, readUser, requireIssuedToken, signedInCaller, sql } from '../support/auth-fixtures'
import { expectAppError, expectValidationError } from '../support/trpc-errors'

const NEW_PASSWORD = 'a brand new passphrase for 2027'
const { reauthWindowSeconds } = appConfig.session

afterEach(() => {
  resetClockForTests()
})

async function snapshot(userId: string) {
  const user = await readUser(userId)
  const sessions = await sql('SELECT id, reauthenticated_at AS reauthenticatedAt FROM sessions WHERE user_id = ? ORDER BY id', [userId])
  return { passwordHash: user!.passwordHash, updatedAt: user!.updatedAt, sessions, counts: await countRows() }
}

describe('step-up re-authentication guards the password change', () => {
  it('a session whose re-auth stamp is older than the window gets REAUTH_REQUIRED and nothing changes', async () => {
    const { user, password } = await createTestUser()
    const { caller } = await signedInCaller(user)
    await signedInCaller(user)
    advanceClockForTests((reauthWindowSeconds + 1) * 1000)
    const before = await snapshot(user.id)

    await expectAppError(caller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD }), 'REAUTH_REQUIRED')

    expect(await snapshot(user.id)).toEqual(before)
  })

  it('auth.reauthenticate with the password stamps the session and the change then succeeds', async () => {
    const { user, password } = await createTestUser()
    const { caller, sessionId } = await signedInCaller(user)
    advanceClockForTests((reauthWindowSeconds + 1) * 1000)
    await expectAppError(caller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD }), 'REAUTH_REQUIRED')

    const { reauthenticatedAt } = await caller.auth.reauthenticate({ password })
    expect(await sql('SELECT id FROM sessions WHERE id = ?', [sessionId])).toHaveLength(0)
    const [row] = await sql('SELECT reauthenticated_at AS at, reauthenticated_with AS factor FROM sessions WHERE user_id = ?', [user.id])
    expect((row!.at as Date).toISOString()).toBe(reauthenticatedAt)
    expect(row!.factor).toBe('password')

    await expect(caller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD })).resolves.toEqual({ otherSessionsRevoked: 0 })
  })

  it('auth.reauthenticate with a wrong password is refused, does not stamp, and counts toward the lockout', async () => {
    const { user, password } = await createTestUser()
    const { caller, sessionId } = await signedInCaller(user)
    advanceClockForTests((reauthWindowSeconds + 1) * 1000)
    const [before] = await sql('SELECT reauthenticated_at AS at FROM sessions WHERE id = ?', [sessionId])

    await expectAppError(caller.auth.reauthenticate({ password: 'not my password at all' }), 'INVALID_CREDENTIALS')

    const [after] = await sql('SELECT reauthenticated_at AS at FROM sessions WHERE id = ?', [sessionId])
    expect(after!.at).toEqual(before!.at)
    const [bucket] = await sql('SELECT count FROM rate_limit_buckets WHERE `key` = ?', [`lockout:untrusted:${user.id}`])
    expect(bucket?.count).toBe(1)
    await expectAppError(caller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD }), 'REAUTH_REQUIRED')
  })

  it('auth.reauthenticate with a TOTP code is refused for a user without a factor', async () => {
    const { user } = await createTestUser()
    const { caller, sessionId } = await signedInCaller(user)
    advanceClockForTests((reauthWindowSeconds + 1) * 1000)
    const [before] = await sql('SELECT reauthenticated_at AS at FROM sessions WHERE id = ?', [sessionId])
    await expectAppError(caller.auth.reauthenticate({ code: '123456' }), 'INVALID_CODE')
    const [after] = await sql('SELECT reauthenticated_at AS at FROM sessions WHERE id = ?', [sessionId])
    expect(after!.at).toEqual(before!.at)
  })
})

describe('account.changePassword refusals change nothing', () => {
  it('a wrong current password is refused (INVALID_CREDENTIALS) and nothing changes', async () => {
    const { user } = await createTestUser()
    const { caller } = await signedInCaller(user)
    await signedInCaller(user)
    const before = await snapshot(user.id)

    await expectAppError(caller.account.changePassword({ currentPassword: 'a guess by whoever holds the cookie', newPassword: NEW_PASSWORD }), 'INVALID_CREDENTIALS')

    expect(await snapshot(user.id)).toEqual(before)
  })

  it('guessing the current password through changePassword is stopped by the account lockout', async () => {
    const { user, password } = await createTestUser()
    const { caller } = await signedInCaller(user)
    // A stolen, freshly re-authenticated session has the whole re-auth window to guess.
    for (let i = 0; i < appConfig.lockout.maxFailures; i++) {
      await expectAppError(caller.account.changePassword({ currentPassword: `guess number ${i}`, newPassword: NEW_PASSWORD }), 'INVALID_CREDENTIALS')
    }
    const before = await snapshot(user.id)
    const { caller: lockedCaller, responseHeaders } = callerWithToken((await signedInCaller(user)).token)
    const sessionsBefore = await snapshot(user.id)
    await expectAppError(lockedCaller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD }), 'ACCOUNT_LOCKED')
    expect(Number(responseHeaders.get('retry-after'))).toBeGreaterThan(0)
    expect(await snapshot(user.id)).toEqual(sessionsBefore)
    expect((await readUser(user.id))!.passwordHash).toBe(before.passwordHash)
  })

  it('a new password that fails the policy is refused (PASSWORD_POLICY) and nothing changes', async () => {
    const { user, password } = await createTestUser()
    const { caller } = await signedInCaller(user)
    const before = await snapshot(user.id)
    for (const newPassword of ['too short', 'passwordpassword']) {
      await expectAppError(caller.account.changePassword({ currentPassword: password, newPassword }), 'PASSWORD_POLICY')
    }
    expect(await snapshot(user.id)).toEqual(before)
  })

  it('unknown input keys are refused before anything runs', async () => {
    const { user, password } = await createTestUser()
    const { caller } = await signedInCaller(user)
    const before = await snapshot(user.id)
    // @ts-expect-error: the attack adds a key the schema does not know
    const call = caller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD, userId: 'a'.repeat(26) })
    await expectValidationError(call)
    expect(await snapshot(user.id)).toEqual(before)
  })
})

describe('a successful password change', () => {
  it('revokes every other session, rotates this one (old token dead, new token works) and swaps the password', async () => {
    const { user, password } = await createTestUser()
    const thief = await signedInCaller(user)
    const otherDevice = await signedInCaller(user)
    const current = await signedInCaller(user)
    const { session: previousSession } = current

    await expect(current.caller.account.changePassword({ currentPassword: password, newPassword: NEW_PASSWORD })).resolves.toEqual({ otherSessionsRevoked: 2 })

    // Other sessions: gone at once.
    await expectAppError(thief.caller.sessions.list(), 'UNAUTHENTICATED')
    await expectAppError(otherDevice.caller.sessions.list(), 'UNAUTHENTICATED')
    // This session: a new token in Set-Cookie; the one it came with is dead.
    const newToken = requireIssuedToken(current.responseHeaders)
    expect(newToken).not.toBe(current.token)
    expect(await callerWithToken(current.token).caller.auth.me()).toBeNull()
    expect(await callerWithToken(newToken).caller.auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id } })
    const sessions = await sql('SELECT id, absolute_expires_at AS absoluteExpiresAt, created_at AS createdAt FROM sessions WHERE user_id = ?', [user.id])
    expect(sessions.map((row) => row.id)).toEqual([parseSessionToken(newToken)!.id])
    // Rotation keeps the session's history and never extends its absolute lifetime.
    expect(sessions[0]!.absoluteExpiresAt).toEqual(previousSession.absoluteExpiresAt)
    expect(sessions[0]!.createdAt).toEqual(previousSession.createdAt)

    const stored = await readUser(user.id)
    expect(await verifyPassword(stored!.passwordHash!, NEW_PASSWORD)).toBe(true)
    await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password }), 'INVALID_CREDENTIALS')
    await expect(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password: NEW_PASSWORD })).resolves.toEqual({ status: 'signed-in' })

    const [event] = await sql("SELECT actor_user_id AS actor, details FROM audit_events WHERE type = 'password.changed' AND subject_user_id = ?", [user.id])
    expect(event!.actor).toBe(user.id)
    expect(typeof event!.details === 'string' ? JSON.parse(event!.details) : event!.details).toEqual({ otherSessionsRevoked: 2 })
  })
})
