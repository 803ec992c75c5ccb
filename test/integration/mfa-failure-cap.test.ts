/**
 * Guessing the second factor over many lockout windows (NIST SP 800-63B-4 §3.2.2: at most 100
 * consecutive failed attempts on an account; security review finding B). The window lockout forgets
 * everything after fifteen minutes and a successful password step used to wipe it, so an attacker
 * who has the password could try ~960 TOTP codes a day, forever (≈0.3 % a day to get in).
 *
 * Now (ADR 016): wrong codes count in a streak on the account's factor that only a fully successful
 * authentication ends. At `lockout.maxConsecutiveMfaFailures` authenticator codes are refused, even
 * the right one, and the owner is mailed. The way out that keeps MFA intact: a recovery code (a
 * second factor no one can guess) or an admin's MFA reset — not a password reset, since a mailbox
 * is not a second factor.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { createTestOrganization, nextTestIp, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { createMfaTestUser, currentTotpCode, nextTotpCode, wrongTotpCode } from '../support/mfa-fixtures'
import { expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

const CAP = appConfig.lockout.maxConsecutiveMfaFailures
const MAX_ATTEMPTS_PER_CHALLENGE = appConfig.mfa.maxAttemptsPerChallenge
const { maxFailures: WINDOW_MAX_FAILURES, windowSeconds: WINDOW_SECONDS } = appConfig.lockout

/** The password step from a fresh browser and address: a successful one, leaving a challenge to answer. */
async function passwordStep(user: { email: string }, password: string) {
  const browser = callerWithResponse({ ip: nextTestIp(), followCookies: true, headers: { 'user-agent': 'MfaCapTest/1.0' } })
  expect(await browser.caller.auth.signIn({ email: user.email, password })).toEqual({ status: 'mfa-required' })
  return browser
}

async function streakOf(userId: string): Promise<number> {
  const [row] = await sql('SELECT consecutive_failures AS n FROM totp_credentials WHERE user_id = ? AND confirmed_at IS NOT NULL', [userId])
  return Number(row!.n)
}

async function setStreak(userId: string, failures: number): Promise<void> {
  await sql('UPDATE totp_credentials SET consecutive_failures = ? WHERE user_id = ? AND confirmed_at IS NOT NULL', [failures, userId])
}

async function lastUsedStep(userId: string) {
  const [row] = await sql('SELECT last_used_step AS step FROM totp_credentials WHERE user_id = ? AND confirmed_at IS NOT NULL', [userId])
  return row ? Number(row.step) : null
}

async function eventsOf(userId: string, type: string) {
  const rows = await sql('SELECT details FROM audit_events WHERE type = ? AND subject_user_id = ? ORDER BY id', [type, userId])
  return rows.map((row) => (typeof row.details === 'string' ? JSON.parse(row.details) : row.details))
}

async function mailsTo(email: string) {
  return sql('SELECT subject, text_body AS text FROM mail_outbox WHERE to_address = ? ORDER BY id', [email])
}

/** Every table but the rate-limit counters (the per-IP limit of the refused request itself is spent first, by design). */
async function checksumsBesideRateLimits() {
  const { rate_limit_buckets: _spentByTheRefusedRequest, ...rest } = await tableChecksums()
  return rest
}

describe('TOTP guessing across many lockout windows', () => {
  it('reaches the cap although each round starts with a successful password step; then the right code is refused, the owner is mailed, and a recovery code is the way back', async () => {
    const { user, password, secret, recoveryCodes } = await createMfaTestUser()

    // A patient attacker with the password: a challenge, wrong codes until it ends, and a wait
    // whenever the window lockout would answer — the pace the old lockout allowed forever.
    let failures = 0
    let failuresInWindow = 0
    while (failures < CAP) {
      if (failuresInWindow >= WINDOW_MAX_FAILURES) {
        advanceClockForTests((WINDOW_SECONDS + 1) * 1000)
        failuresInWindow = 0
      }
      const attacker = await passwordStep(user, password)
      const guesses = Math.min(MAX_ATTEMPTS_PER_CHALLENGE, CAP - failures, WINDOW_MAX_FAILURES - failuresInWindow)
      for (let guess = 0; guess < guesses; guess++, failures++, failuresInWindow++) {
        await expectAppError(attacker.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
      }
    }
    advanceClockForTests((WINDOW_SECONDS + 1) * 1000)

    // The password still works (it is not what was guessed), but the right code no longer does.
    const challenge = await passwordStep(user, password)
    const step = await lastUsedStep(user.id)
    const before = await checksumsBesideRateLimits()
    const refused = await expectAppError(challenge.caller.mfa.verify({ code: nextTotpCode(secret) }), 'MFA_LOCKED')
    expect(refused.message).toMatch(/recovery code/)
    expect(await checksumsBesideRateLimits()).toEqual(before)
    expect(await lastUsedStep(user.id)).toBe(step)
    expect(await streakOf(user.id)).toBe(CAP)

    // Told once, by mail and in the audit log; the mail carries no code and no link with a token.
    expect(await eventsOf(user.id, 'mfa.locked')).toEqual([{ failures: CAP }])
    const mails = await mailsTo(user.email)
    expect(mails.map((mail) => mail.subject)).toEqual([expect.stringMatching(/two-factor codes are blocked/i)])
    expect(String(mails[0]!.text)).toMatch(/recovery code/)
    expect(String(mails[0]!.text)).not.toMatch(/token=|\b\d{6}\b/)

    // The owner's way out: a recovery code (120 bits: the cap protects nothing there) completes the
    // sign-in, and that full success ends the streak; the authenticator works again afterwards.
    expect(await challenge.caller.mfa.useRecoveryCode({ code: recoveryCodes[0]! })).toEqual({ status: 'signed-in', remaining: 9 })
    expect(await streakOf(user.id)).toBe(0)
    const next = await passwordStep(user, password)
    expect(await next.caller.mfa.verify({ code: nextTotpCode(secret) })).toEqual({ status: 'signed-in' })
  }, 120_000)

  it('counts consecutive failures: a password step leaves the streak alone, a full sign-in ends it', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const first = await passwordStep(user, password)
    for (let i = 0; i < 3; i++) await expectAppError(first.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    expect(await streakOf(user.id)).toBe(3)

    const second = await passwordStep(user, password)
    expect(await streakOf(user.id)).toBe(3)
    await expectAppError(second.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    expect(await second.caller.mfa.verify({ code: nextTotpCode(secret) })).toEqual({ status: 'signed-in' })
    expect(await streakOf(user.id)).toBe(0)
  })
})

describe('after the cap', () => {
  it('a password reset does not unblock the authenticator (control of the mailbox is not a second factor)', async () => {
    const { user, secret, recoveryCodes } = await createMfaTestUser()
    await setStreak(user.id, CAP)
    await callerWithResponse({ ip: nextTestIp() }).caller.auth.requestPasswordReset({ email: user.email })
    const [mail] = await sql("SELECT text_body AS text FROM mail_outbox WHERE to_address = ? AND subject LIKE '%eset%' ORDER BY id DESC LIMIT 1", [user.email])
    const token = new URL(String(mail!.text).match(/https?:\/\/\S+/)![0]).searchParams.get('token')!
    const newPassword = 'a brand new long passphrase 2027'
    await callerWithResponse({ ip: nextTestIp() }).caller.auth.resetPassword({ token, password: newPassword })

    const challenge = await passwordStep(user, newPassword)
    await expectAppError(challenge.caller.mfa.verify({ code: nextTotpCode(secret) }), 'MFA_LOCKED')
    expect(await streakOf(user.id)).toBe(CAP)
    expect(await challenge.caller.mfa.useRecoveryCode({ code: recoveryCodes[1]! })).toMatchObject({ status: 'signed-in' })
  })

  it("an admin's MFA reset is the way out for a member without recovery codes: the factor goes, and its streak with it", async () => {
    const organization = await createTestOrganization()
    const admin = await createMfaTestUser({ organizationId: organization.id, role: 'admin' })
    const adminSession = await signedInCaller(admin.user, { ip: nextTestIp(), isMfaSatisfied: true })
    const member = await createMfaTestUser({ organizationId: organization.id })
    await setStreak(member.user.id, CAP)

    await adminSession.caller.admin.users.resetMfa({ userId: member.user.id })
    const browser = callerWithResponse({ ip: nextTestIp() })
    expect(await browser.caller.auth.signIn({ email: member.user.email, password: member.password })).toEqual({ status: 'signed-in' })
    expect(await sql('SELECT id FROM totp_credentials WHERE user_id = ?', [member.user.id])).toHaveLength(0)
  })

  it('TOTP step-up is no side door: a stolen session’s wrong codes count, and at the cap the right code is refused there too', async () => {
    const { user, secret } = await createMfaTestUser()
    const thief = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true, isReauthStale: true })
    await setStreak(user.id, CAP - 1)
    await expectAppError(thief.caller.auth.reauthenticate({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
    expect(await streakOf(user.id)).toBe(CAP)
    expect(await eventsOf(user.id, 'mfa.locked')).toEqual([{ failures: CAP }])
    expect(await mailsTo(user.email)).toHaveLength(1)

    const step = await lastUsedStep(user.id)
    const before = await checksumsBesideRateLimits()
    await expectAppError(thief.caller.auth.reauthenticate({ code: currentTotpCode(secret, 1) }), 'MFA_LOCKED')
    expect(await checksumsBesideRateLimits()).toEqual(before)
    expect(await lastUsedStep(user.id)).toBe(step)
  })

  it('wrong recovery codes count toward the streak too, but recovery codes are still accepted after the cap', async () => {
    const { user, password, recoveryCodes } = await createMfaTestUser()
    await setStreak(user.id, CAP - 1)
    const challenge = await passwordStep(user, password)
    await expectAppError(challenge.caller.mfa.useRecoveryCode({ code: 'aaaaa-bbbbb-ccccc-ddddd-eeeee' }), 'INVALID_CODE')
    expect(await streakOf(user.id)).toBe(CAP)
    expect(await eventsOf(user.id, 'mfa.locked')).toHaveLength(1)
    expect(await challenge.caller.mfa.useRecoveryCode({ code: recoveryCodes[2]! })).toMatchObject({ status: 'signed-in' })
    expect(await streakOf(user.id)).toBe(0)
  })
})
