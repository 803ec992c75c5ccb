/**
 * Removing or replacing a second factor needs the second factor (NIST SP 800-63B-4 authenticator
 * management; issue 11 item 2). The attack: someone who has the password — phished, or a stolen
 * session that just stepped up with it — turns MFA off, regenerates the recovery codes, or binds
 * their own authenticator. Each is refused with REAUTH_SECOND_FACTOR_REQUIRED and writes nothing;
 * after a step-up with a TOTP code the same action works.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithToken, nextTestIp, readUser, signedInCaller, tableChecksums } from '../support/auth-fixtures'
import { createMfaTestUser, nextTotpCode } from '../support/mfa-fixtures'
import { expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

/** An MFA user's session whose latest proof of presence is a fresh password step-up. */
async function passwordSteppedUpSession() {
  const mfaUser = await createMfaTestUser()
  const signedIn = await signedInCaller(mfaUser.user, { ip: nextTestIp(), isMfaSatisfied: true })
  advanceClockForTests((appConfig.session.reauthWindowSeconds + 1) * 1000)
  await signedIn.caller.auth.reauthenticate({ password: mfaUser.password })
  return { ...mfaUser, ...signedIn }
}

describe('second-factor removal after a password-only re-authentication', () => {
  it('mfa.disable is refused, nothing is written; after a TOTP step-up it works', async () => {
    const { user, password, secret, caller } = await passwordSteppedUpSession()
    const before = await tableChecksums()
    await expectAppError(caller.mfa.disable({ currentPassword: password }), 'REAUTH_SECOND_FACTOR_REQUIRED')
    expect(await tableChecksums()).toEqual(before)
    expect((await readUser(user.id))!.mfaEnabledAt).not.toBeNull()

    await caller.auth.reauthenticate({ code: nextTotpCode(secret) })
    expect(await caller.mfa.disable({ currentPassword: password })).toMatchObject({ wasEnabled: true })
  })

  it('mfa.regenerateRecoveryCodes is refused, nothing is written; after a TOTP step-up it works', async () => {
    const { secret, caller } = await passwordSteppedUpSession()
    const before = await tableChecksums()
    await expectAppError(caller.mfa.regenerateRecoveryCodes(), 'REAUTH_SECOND_FACTOR_REQUIRED')
    expect(await tableChecksums()).toEqual(before)

    await caller.auth.reauthenticate({ code: nextTotpCode(secret) })
    expect((await caller.mfa.regenerateRecoveryCodes()).recoveryCodes).toHaveLength(10)
  })

  it('binding a new authenticator in place of the old (re-enrollment) is refused, nothing is written', async () => {
    const { secret, caller } = await passwordSteppedUpSession()
    const before = await tableChecksums()
    await expectAppError(caller.mfa.beginEnrollment(), 'REAUTH_SECOND_FACTOR_REQUIRED')
    expect(await tableChecksums()).toEqual(before)

    await caller.auth.reauthenticate({ code: nextTotpCode(secret) })
    expect((await caller.mfa.beginEnrollment()).secret).toMatch(/^[A-Z2-7]{32}$/)
  })

  it('a sign-in completed with a TOTP code counts as the second factor within the window (no extra prompt)', async () => {
    const { user, password } = await createMfaTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    expect(await caller.mfa.disable({ currentPassword: password })).toMatchObject({ wasEnabled: true })
  })

  it('the second-factor proof still expires with the re-authentication window', async () => {
    const { user, password } = await createMfaTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    advanceClockForTests((appConfig.session.reauthWindowSeconds + 1) * 1000)
    await expectAppError(caller.mfa.disable({ currentPassword: password }), 'REAUTH_REQUIRED')
  })
})

describe('recovery-code regeneration and the sessions around it', () => {
  it('issues a new token for this session and counts the other sessions the page offers to end', async () => {
    const { user } = await createMfaTestUser()
    const current = await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    await signedInCaller(user, { ip: nextTestIp(), isMfaSatisfied: true })
    const { otherSessionCount } = await current.caller.mfa.regenerateRecoveryCodes()
    expect(otherSessionCount).toBe(1)
    // The token the page held before is dead; the caller (a browser) followed the new one.
    expect(await callerWithToken(current.token).caller.auth.me()).toBeNull()
    expect(await current.caller.auth.me()).toMatchObject({ status: 'signed-in' })
  })
})
