/**
 * The sign-in challenge (mfa.verify, mfa.useRecoveryCode) through the tRPC router: an "MFA pending"
 * session reaches nothing else, success rotates the token, codes are single-use even under races,
 * and failures are bounded per challenge and per account (shared with passwords).
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, countRows, createTestUser, getSetSessionCookie, nextTestIp, requireIssuedToken, signedInCaller, sql } from '../support/auth-fixtures'
import { createMfaTestUser, currentTotpCode, nextTotpCode, wrongTotpCode } from '../support/mfa-fixtures'
import { catchTrpcError, expectAppError, expectValidationError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

const MAX_ATTEMPTS = appConfig.mfa.maxAttemptsPerChallenge

/** Password step of a sign-in; returns the (pending) session token. */
async function signInWithPassword(email: string, password: string, ip = nextTestIp()) {
  const { caller, responseHeaders } = callerWithResponse({ ip, headers: { 'user-agent': 'MfaChallengeTest/1.0' } })
  const result = await caller.auth.signIn({ email, password })
  return { result, token: requireIssuedToken(responseHeaders) }
}

async function pendingSessionFor(user: { email: string }, password: string) {
  const { result, token } = await signInWithPassword(user.email, password)
  expect(result).toEqual({ status: 'mfa-required' })
  return { token, sessionId: token.split('.')[0]!, ...callerWithToken(token) }
}

async function sessionRow(sessionId: string) {
  const [row] = await sql('SELECT mfa_satisfied_at AS mfaSatisfiedAt, mfa_failed_attempts AS mfaFailedAttempts, reauthenticated_at AS reauthenticatedAt FROM sessions WHERE id = ?', [sessionId])
  return row ?? null
}

async function auditEventsOf(userId: string) {
  const rows = await sql('SELECT type, details FROM audit_events WHERE subject_user_id = ? ORDER BY id', [userId])
  return rows.map((row) => ({ type: row.type as string, details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details }))
}

async function lastUsedStep(userId: string) {
  const [row] = await sql('SELECT last_used_step AS step FROM totp_credentials WHERE user_id = ? AND confirmed_at IS NOT NULL', [userId])
  return row ? Number(row.step) : null
}

async function lockoutCount(userId: string) {
  const [row] = await sql('SELECT count FROM rate_limit_buckets WHERE `key` = ?', [`lockout:untrusted:${userId}`])
  return row ? Number(row.count) : 0
}

describe('the password step of an MFA user', () => {
  it('answers mfa-required, and auth.me tells the pending session nothing but that a code is due', async () => {
    const { user, password } = await createMfaTestUser()
    const { caller } = await pendingSessionFor(user, password)
    expect(await caller.auth.me()).toEqual({ status: 'mfa-pending' })
    // The password step alone is no sign-in: success is audited once the code is proven.
    expect((await auditEventsOf(user.id)).map((event) => event.type)).not.toContain('auth.sign_in.succeeded')
  })

  it('a pending session is refused by every procedure except the challenge (MFA_REQUIRED)', async () => {
    const { user, password } = await createMfaTestUser({ role: 'admin' })
    const { caller } = await pendingSessionFor(user, password)
    const before = await countRows()
    const refusals = [
      () => caller.sessions.list(),
      () => caller.sessions.revokeOthers(),
      () => caller.account.changePassword({ currentPassword: password, newPassword: 'another long passphrase 99' }),
      () => caller.auth.reauthenticate({ code: '123456' }),
      () => caller.mfa.status(),
      () => caller.mfa.beginEnrollment(),
      () => caller.mfa.confirmEnrollment({ code: '123456' }),
      () => caller.mfa.regenerateRecoveryCodes(),
      () => caller.mfa.disable({ currentPassword: password }),
      () => caller.admin.users.list(),
      () => caller.organization.getMfaPolicy(),
    ]
    for (const call of refusals) await expectAppError(call(), 'MFA_REQUIRED')
    expect(await countRows()).toEqual(before)
  })

  it('a fully signed-in session cannot call the challenge (FORBIDDEN: nothing to verify)', async () => {
    const { user, secret } = await createMfaTestUser()
    const { caller } = await signedInCaller(user, { isMfaSatisfied: true, ip: nextTestIp() })
    await expectAppError(caller.mfa.verify({ code: nextTotpCode(secret) }), 'FORBIDDEN')
    const { caller: plainCaller } = await signedInCaller((await createTestUser()).user, { ip: nextTestIp() })
    await expectAppError(plainCaller.mfa.useRecoveryCode({ code: 'aaaaa-aaaaa' }), 'FORBIDDEN')
  })

  it('an anonymous caller cannot call the challenge (UNAUTHENTICATED)', async () => {
    await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.mfa.verify({ code: '123456' }), 'UNAUTHENTICATED')
  })
})

describe('mfa.verify', () => {
  it('a valid code signs in: new token, old cookie dead, mfa_satisfied_at and reauthenticated_at stamped, audited', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    const code = nextTotpCode(secret)

    expect(await pending.caller.mfa.verify({ code: `${code.slice(0, 3)} ${code.slice(3)}` })).toEqual({ status: 'signed-in' })

    const newToken = requireIssuedToken(pending.responseHeaders)
    expect(newToken).not.toBe(pending.token)
    expect(await sessionRow(pending.sessionId)).toBeNull()
    expect(await callerWithToken(pending.token).caller.auth.me()).toBeNull()

    const me = await callerWithToken(newToken).caller.auth.me()
    expect(me).toMatchObject({ status: 'signed-in', user: { id: user.id, isMfaEnabled: true }, session: { mfaSatisfiedAt: expect.any(String) } })
    const row = await sessionRow(newToken.split('.')[0]!)
    expect(row).toMatchObject({ mfaSatisfiedAt: expect.any(Date), mfaFailedAttempts: 0, reauthenticatedAt: expect.any(Date) })
    await callerWithToken(newToken).caller.sessions.list()

    const events = await auditEventsOf(user.id)
    expect(events.at(-1)).toEqual({ type: 'auth.sign_in.succeeded', details: { method: 'password', mfa: 'totp' } })
  })

  it('replayed TOTP code is refused (sequential): the code that signed in one session does not sign in another', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const first = await pendingSessionFor(user, password)
    const second = await pendingSessionFor(user, password)
    const code = nextTotpCode(secret)
    await first.caller.mfa.verify({ code })
    const step = await lastUsedStep(user.id)

    const refused = await expectAppError(second.caller.mfa.verify({ code }), 'INVALID_CODE')
    expect(refused.message).toMatch(/already used/)
    expect(await second.caller.auth.me()).toEqual({ status: 'mfa-pending' })
    expect(getSetSessionCookie(second.responseHeaders)).toBeNull()
    expect(await lastUsedStep(user.id)).toBe(step)
    expect((await auditEventsOf(user.id)).at(-1)).toEqual({ type: 'mfa.verify.failed', details: { factor: 'totp', reason: 'replayed', attempt: 1 } })
  })

  it('replayed TOTP code is refused (concurrent): of two challenges racing with one code exactly one signs in', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const first = await pendingSessionFor(user, password)
    const second = await pendingSessionFor(user, password)
    const code = nextTotpCode(secret)

    const results = await Promise.allSettled([first.caller.mfa.verify({ code }), second.caller.mfa.verify({ code })])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    const [rejected] = results.filter((result) => result.status === 'rejected')
    expect((rejected as PromiseRejectedResult).reason.cause.appCode).toBe('INVALID_CODE')
    const signedIn = [first, second].filter((session) => getSetSessionCookie(session.responseHeaders) !== null)
    expect(signedIn).toHaveLength(1)
  })

  it('the code of the enrollment step is spent: the next step is the first that signs in', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    await expectAppError(pending.caller.mfa.verify({ code: currentTotpCode(secret) }), 'INVALID_CODE')
    // ±1 window: the code of the next step is accepted already now.
    expect(await pending.caller.mfa.verify({ code: currentTotpCode(secret, 1) })).toEqual({ status: 'signed-in' })
  })

  it('malformed codes fail validation before the handler: no attempt counted, nothing written', async () => {
    const { user, password } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    for (const code of ['12345', '1234567', 'abcdef', '１２３４５６', '12-34-56', '1'.repeat(40)]) {
      await expectValidationError(pending.caller.mfa.verify({ code }))
    }
    await expectValidationError(pending.caller.mfa.verify({ code: '123456', extra: true } as never))
    await expectValidationError(pending.caller.mfa.useRecoveryCode({ code: 'x'.repeat(65) }))
    expect(await sessionRow(pending.sessionId)).toMatchObject({ mfaFailedAttempts: 0, mfaSatisfiedAt: null })
    expect(await lockoutCount(user.id)).toBe(0)
  })
})

describe('failed codes', () => {
  it(`online guessing against one challenge: after ${MAX_ATTEMPTS} wrong codes the challenge is over and even the right code needs the password again`, async () => {
    const { user, password, secret } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await expectAppError(pending.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
      expect(await sessionRow(pending.sessionId)).toMatchObject({ mfaFailedAttempts: attempt })
    }
    const step = await lastUsedStep(user.id)
    const { caller, responseHeaders } = callerWithToken(pending.token)
    const over = await expectAppError(caller.mfa.verify({ code: currentTotpCode(secret, 1) }), 'UNAUTHENTICATED')
    expect(over.message).toMatch(/Sign in again/)
    expect(await sessionRow(pending.sessionId)).toBeNull()
    expect(getSetSessionCookie(responseHeaders)).toMatchObject({ value: '', attributes: expect.any(Map) })
    // The right code was never checked, so it is not spent: a new challenge accepts it.
    expect(await lastUsedStep(user.id)).toBe(step)
    expect((await auditEventsOf(user.id)).at(-1)).toEqual({ type: 'mfa.verify.failed', details: { factor: 'totp', reason: 'challenge_attempts_exhausted' } })
    const again = await pendingSessionFor(user, password)
    expect(await again.caller.mfa.verify({ code: currentTotpCode(secret, 1) })).toEqual({ status: 'signed-in' })
  })

  it('a burst of parallel guesses cannot overdraw the per-challenge budget', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    const wrong = wrongTotpCode(secret)
    const results = await Promise.allSettled(Array.from({ length: MAX_ATTEMPTS * 2 }, () => pending.caller.mfa.verify({ code: wrong })))
    const appCodes = results.map((result) => (result.status === 'rejected' ? result.reason.cause?.appCode : 'fulfilled'))
    expect(appCodes.filter((code) => code === 'INVALID_CODE')).toHaveLength(MAX_ATTEMPTS)
    expect(appCodes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(MAX_ATTEMPTS)
    expect(await lockoutCount(user.id)).toBe(MAX_ATTEMPTS)
    expect(await sessionRow(pending.sessionId)).toBeNull()
  })

  it('wrong codes count toward the account lockout shared with passwords; a locked account refuses the right code and the right password', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const maxFailures = appConfig.lockout.maxFailures
    const passwordFailures = maxFailures - MAX_ATTEMPTS
    expect(passwordFailures).toBeGreaterThan(0)
    for (let index = 0; index < passwordFailures; index++) {
      await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password: 'wrong password, long enough' }), 'INVALID_CREDENTIALS')
    }
    const guessing = await pendingSessionFor(user, password)
    const waiting = await pendingSessionFor(user, password)
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await expectAppError(guessing.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    }
    expect(await lockoutCount(user.id)).toBe(maxFailures)
    expect((await auditEventsOf(user.id)).map((event) => event.type)).toContain('account.locked')

    // A challenge started before the lock cannot finish with the right code, and the code stays unspent.
    const step = await lastUsedStep(user.id)
    await expectAppError(waiting.caller.mfa.verify({ code: nextTotpCode(secret) }), 'ACCOUNT_LOCKED')
    expect(Number(waiting.responseHeaders.get('retry-after'))).toBeGreaterThan(0)
    expect(await lastUsedStep(user.id)).toBe(step)
    expect(await sessionRow(waiting.sessionId)).toMatchObject({ mfaFailedAttempts: 0, mfaSatisfiedAt: null })
    // And the password step is locked too.
    await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password }), 'ACCOUNT_LOCKED')
  })

  it('a successful challenge clears the account failure count', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    await expectAppError(pending.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    await expectAppError(pending.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    expect(await lockoutCount(user.id)).toBe(2)
    await pending.caller.mfa.verify({ code: nextTotpCode(secret) })
    expect(await lockoutCount(user.id)).toBe(0)
  })
})

describe('mfa.useRecoveryCode', () => {
  it('signs in with a recovery code in any spelling, says how many remain, and is audited', async () => {
    const { user, password, recoveryCodes } = await createMfaTestUser()
    const pending = await pendingSessionFor(user, password)
    const spelled = ` ${recoveryCodes[0]!.toUpperCase().replace('-', ' ')} `

    expect(await pending.caller.mfa.useRecoveryCode({ code: spelled })).toEqual({ status: 'signed-in', remaining: 9 })
    const newToken = requireIssuedToken(pending.responseHeaders)
    expect(await callerWithToken(pending.token).caller.auth.me()).toBeNull()
    expect(await callerWithToken(newToken).caller.auth.me()).toMatchObject({ status: 'signed-in', session: { mfaSatisfiedAt: expect.any(String) } })
    expect((await auditEventsOf(user.id)).slice(-2)).toEqual([
      { type: 'mfa.recovery_code.used', details: { remaining: 9 } },
      { type: 'auth.sign_in.succeeded', details: { method: 'password', mfa: 'recovery_code' } },
    ])
    expect(await callerWithToken(newToken).caller.mfa.status()).toMatchObject({ isEnabled: true, recoveryCodesRemaining: 9 })
  })

  it('reused recovery code is refused and counts as a failed attempt', async () => {
    const { user, password, recoveryCodes } = await createMfaTestUser()
    await (await pendingSessionFor(user, password)).caller.mfa.useRecoveryCode({ code: recoveryCodes[0]! })
    const second = await pendingSessionFor(user, password)
    await expectAppError(second.caller.mfa.useRecoveryCode({ code: recoveryCodes[0]! }), 'INVALID_CODE')
    expect(await sessionRow(second.sessionId)).toMatchObject({ mfaFailedAttempts: 1, mfaSatisfiedAt: null })
    expect(await lockoutCount(user.id)).toBe(1)
    expect((await auditEventsOf(user.id)).at(-1)).toEqual({ type: 'mfa.verify.failed', details: { factor: 'recovery_code', reason: 'invalid-code', attempt: 1 } })
    // Unused codes still work, and the count is right.
    expect(await second.caller.mfa.useRecoveryCode({ code: recoveryCodes[1]! })).toEqual({ status: 'signed-in', remaining: 8 })
  })

  it('concurrent use of one recovery code: exactly one challenge wins', async () => {
    const { user, password, recoveryCodes } = await createMfaTestUser()
    const sessions = await Promise.all([pendingSessionFor(user, password), pendingSessionFor(user, password), pendingSessionFor(user, password)])
    const results = await Promise.allSettled(sessions.map((session) => session.caller.mfa.useRecoveryCode({ code: recoveryCodes[3]! })))
    const fulfilled = results.filter((result) => result.status === 'fulfilled')
    expect(fulfilled).toHaveLength(1)
    expect((fulfilled[0] as PromiseFulfilledResult<unknown>).value).toEqual({ status: 'signed-in', remaining: 9 })
    for (const result of results.filter((result) => result.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason.cause.appCode).toBe('INVALID_CODE')
    }
    const [row] = await sql('SELECT COUNT(*) AS used FROM recovery_codes WHERE user_id = ? AND used_at IS NOT NULL', [user.id])
    expect(Number(row!.used)).toBe(1)
  })

  it("another user's recovery code is refused", async () => {
    const victim = await createMfaTestUser()
    const attacker = await createMfaTestUser()
    const pending = await pendingSessionFor(attacker.user, attacker.password)
    const caught = await catchTrpcError(pending.caller.mfa.useRecoveryCode({ code: victim.recoveryCodes[0]! }))
    expect(caught.appCode).toBe('INVALID_CODE')
    const [row] = await sql('SELECT COUNT(*) AS used FROM recovery_codes WHERE used_at IS NOT NULL AND user_id IN (?, ?)', [victim.user.id, attacker.user.id])
    expect(Number(row!.used)).toBe(0)
  })
})
