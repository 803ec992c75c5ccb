/**
 * Attack (LOW, production-build security review): turning MFA off leaves a password shorter than
 * the single-factor minimum. NIST SP 800-63B-4 §3.1.1.2 allows 8 characters for a password used
 * beside a second factor and asks 15 of one used alone (`app.config.ts` `password.minLengthWithMfa`
 * / `minLengthWithoutMfa`, and the strength scores). A user with TOTP sets a 10-character password
 * (allowed with MFA), re-authenticates with a code and calls `mfa.disable` — or an admin resets
 * their MFA — and from then on 10 characters alone open the account.
 *
 * The defence (ADR 018): `mfa.disable` asks for the current password and refuses one that may not
 * stand alone, saying to change it first, with nothing written; and a password sign-in of a user
 * with no second factor whose password may not stand alone (after an admin reset, or a stricter
 * policy) is sent to MFA enrollment ("mfa-enrollment-required") and reaches nothing else. Both
 * sides of each rule are tested: a long password goes through.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, createTestOrganization, createTestUser, nextTestIp, readUser, requireIssuedToken, signedInCaller, sql, tableChecksums, TEST_PASSWORD } from '../support/auth-fixtures'
import { createMfaTestUser, currentTotpCode, nextTotpCode } from '../support/mfa-fixtures'
import { expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

/** Ten random-looking characters: accepted beside a second factor (≥ 8, strong enough), short of the 15 a password alone needs. */
const SHORT_PASSWORD = 'Kx9#mQ2vLp'

it('the short password is what the policy allows with MFA and refuses without (the premise of every test here)', () => {
  expect([...SHORT_PASSWORD].length).toBeGreaterThanOrEqual(appConfig.password.minLengthWithMfa)
  expect([...SHORT_PASSWORD].length).toBeLessThan(appConfig.password.minLengthWithoutMfa)
})

async function passwordSignIn(email: string, password: string) {
  const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })
  const result = await caller.auth.signIn({ email, password })
  // A browser: it keeps the token the server rotates to (enrollment, re-authentication).
  return { result, ...callerWithToken(requireIssuedToken(responseHeaders), { followCookies: true }) }
}

async function auditTypesOf(userId: string): Promise<string[]> {
  return (await sql('SELECT type FROM audit_events WHERE subject_user_id = ? ORDER BY id', [userId])).map((row) => String(row.type))
}

describe('mfa.disable with a password allowed only beside a second factor', () => {
  it('the reported path — set a 10-character password while MFA is on, step up with a code, turn MFA off — is refused, nothing written', async () => {
    const { user, secret } = await createMfaTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    // Allowed: with a second factor, 8 characters are enough.
    await caller.account.changePassword({ currentPassword: TEST_PASSWORD, newPassword: SHORT_PASSWORD })
    await caller.auth.reauthenticate({ code: nextTotpCode(secret) })

    const before = await tableChecksums()
    const refused = await expectAppError(caller.mfa.disable({ currentPassword: SHORT_PASSWORD }), 'PASSWORD_POLICY')
    expect(refused.message).toMatch(/at least 15 characters/)
    expect(refused.message).toMatch(/Change your password first/)
    expect(await tableChecksums()).toEqual(before)
    expect((await readUser(user.id))!.mfaEnabledAt).not.toBeNull()

    // The password step alone still only starts a challenge.
    expect((await passwordSignIn(user.email, SHORT_PASSWORD)).result).toEqual({ status: 'mfa-required' })
  })

  it('the current password is required (INVALID_INPUT) and must be right (INVALID_CREDENTIALS, counted as a failure); the factor stays', async () => {
    const { user, password } = await createMfaTestUser({ password: SHORT_PASSWORD })
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })

    const before = await tableChecksums()
    await expectAppError(caller.mfa.disable({}), 'INVALID_INPUT')
    expect(await tableChecksums()).toEqual(before)

    await expectAppError(caller.mfa.disable({ currentPassword: `${password} but wrong` }), 'INVALID_CREDENTIALS')
    const [lockout] = await sql('SELECT count FROM rate_limit_buckets WHERE `key` = ?', [`lockout:untrusted:${user.id}`])
    expect(Number(lockout!.count)).toBe(1)
    expect(await sql('SELECT id FROM totp_credentials WHERE user_id = ?', [user.id])).toHaveLength(1)
  })

  it('after changing to a password fit to stand alone, MFA turns off and the password alone signs in', async () => {
    const { user, secret } = await createMfaTestUser({ password: SHORT_PASSWORD })
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    await caller.account.changePassword({ currentPassword: SHORT_PASSWORD, newPassword: TEST_PASSWORD })
    await caller.auth.reauthenticate({ code: nextTotpCode(secret) })

    expect(await caller.mfa.disable({ currentPassword: TEST_PASSWORD })).toMatchObject({ wasEnabled: true })
    expect(await caller.auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: false } })
    expect((await passwordSignIn(user.email, TEST_PASSWORD)).result).toEqual({ status: 'signed-in' })
  })

  it('an SSO-only account (no password) needs none', async () => {
    const { user } = await createMfaTestUser()
    await sql('UPDATE users SET password_hash = NULL WHERE id = ?', [user.id])
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    expect(await caller.mfa.disable({})).toMatchObject({ wasEnabled: true })
  })
})

describe('password sign-in of a user with no second factor whose password may not stand alone', () => {
  /** An organization with an admin and an MFA member whose password is `password`; the admin resets the member's MFA. */
  async function memberAfterAdminReset(password: string) {
    const organization = await createTestOrganization()
    const { user: admin } = await createTestUser({ role: 'admin', organizationId: organization.id })
    const { user: member } = await createMfaTestUser({ organizationId: organization.id, password })
    const { caller } = await signedInCaller(admin, { ip: nextTestIp() })
    expect(await caller.admin.users.resetMfa({ userId: member.id })).toMatchObject({ wasEnabled: true })
    return member
  }

  it('after an admin reset, a 10-character password opens only MFA enrollment: nothing else answers, and nothing is written by the refusals', async () => {
    const member = await memberAfterAdminReset(SHORT_PASSWORD)
    const { result, caller } = await passwordSignIn(member.email, SHORT_PASSWORD)
    expect(result).toEqual({ status: 'mfa-enrollment-required' })
    expect(await caller.auth.me()).toMatchObject({ status: 'mfa-enrollment-required', mfaEnrollmentReason: 'password_needs_second_factor', user: { id: member.id, isMfaEnabled: false } })

    const before = await tableChecksums()
    for (const call of [
      () => caller.sessions.list(),
      () => caller.sessions.revokeOthers(),
      () => caller.account.changePassword({ currentPassword: SHORT_PASSWORD, newPassword: 'x'.repeat(20) }),
      () => caller.auth.reauthenticate({ password: SHORT_PASSWORD }),
      () => caller.mfa.disable({ currentPassword: SHORT_PASSWORD }),
    ]) {
      await expectAppError(call(), 'MFA_ENROLLMENT_REQUIRED')
    }
    expect(await tableChecksums()).toEqual(before)
    // The sign-in itself is audited with the reason.
    const [event] = await sql("SELECT details FROM audit_events WHERE subject_user_id = ? AND type = 'auth.sign_in.succeeded' ORDER BY id DESC LIMIT 1", [member.id])
    const details = typeof event!.details === 'string' ? JSON.parse(event!.details) : event!.details
    expect(details).toEqual({ method: 'password', mfaEnrollmentReason: 'password_needs_second_factor' })
  })

  it('enrolling a factor (no re-authentication needed, as for forced enrollment) completes the sign-in', async () => {
    const member = await memberAfterAdminReset(SHORT_PASSWORD)
    const { caller } = await passwordSignIn(member.email, SHORT_PASSWORD)
    const { secret } = await caller.mfa.beginEnrollment()
    const { recoveryCodes } = await caller.mfa.confirmEnrollment({ code: currentTotpCode(secret) })
    expect(recoveryCodes).toHaveLength(10)
    expect(await caller.auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: true } })
    expect(await caller.sessions.list()).toHaveLength(1)
    expect(await auditTypesOf(member.id)).toContain('mfa.enrolled')
  })

  it('a password fit to stand alone signs in as before after the reset (the other side of the rule)', async () => {
    const member = await memberAfterAdminReset(TEST_PASSWORD)
    const { result, caller } = await passwordSignIn(member.email, TEST_PASSWORD)
    expect(result).toEqual({ status: 'signed-in' })
    expect(await caller.sessions.list()).toHaveLength(1)
  })

  it('a user who still has their factor is asked for it, whatever the password (the challenge, not enrollment)', async () => {
    const { user } = await createMfaTestUser({ password: SHORT_PASSWORD })
    expect((await passwordSignIn(user.email, SHORT_PASSWORD)).result).toEqual({ status: 'mfa-required' })
  })
})
