/**
 * Malicious account lockout (OWASP ASVS 5.0 V6.1.1 "prevent malicious account lockout", V6.3.1;
 * NIST SP 800-63B-4 §3.2.2; security review finding A): anyone who knows an email used to lock the
 * account — ten wrong passwords from one IP, and the owner's right password was refused for as long
 * as the attacker kept going, at sign-in, at the MFA challenge and at step-up.
 *
 * Now (OWASP device cookies, ADR 016): a browser that presents this account's known-device tag
 * (`known-devices.ts`, ADR 013) has its own small failure budget and is not locked out by anyone
 * else; failures from every other client lock out those clients only. Both sides of the exemption
 * are tested: the owner's device gets through, a stolen device still cannot guess, a tag of another
 * account or a forged one buys nothing, and an unknown email still answers like a known one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import { countRows, createTestUser, nextTestIp, requireKnownDeviceCookie, sql, uniqueEmail } from '../support/auth-fixtures'
import { createMfaTestUser, nextTotpCode, wrongTotpCode } from '../support/mfa-fixtures'
import { catchTrpcError, expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

const { maxFailures, maxFailuresPerKnownDevice, windowSeconds } = appConfig.lockout
const perAccountWindowSeconds = appConfig.rateLimits.signInPerAccount.windowSeconds
const MAX_ATTEMPTS_PER_CHALLENGE = appConfig.mfa.maxAttemptsPerChallenge

/** A browser: its own address, the cookies it is given, and the cookies the server sets from then on. */
function browser(cookie?: string, ip = nextTestIp()) {
  return callerWithResponse({ ip, cookie, followCookies: true, headers: { 'user-agent': 'LockoutTest/1.0' } })
}

/** The owner signs in once (with the code, for an MFA user); their browser keeps the known-device cookie it was given. */
async function ownersKnownDevice(user: { email: string }, password: string, totpSecret?: string) {
  const owner = browser()
  const result = await owner.caller.auth.signIn({ email: user.email, password })
  if (totpSecret) {
    expect(result).toEqual({ status: 'mfa-required' })
    await owner.caller.mfa.verify({ code: nextTotpCode(totpSecret) })
  }
  // That was yesterday: today's attempts start with fresh per-account windows.
  advanceClockForTests(24 * 60 * 60 * 1000)
  return { cookie: requireKnownDeviceCookie(owner.responseHeaders), signedIn: owner }
}

async function lockEvents(userId: string) {
  const rows = await sql("SELECT details FROM audit_events WHERE type = 'account.locked' AND subject_user_id = ? ORDER BY id", [userId])
  return rows.map((row) => (typeof row.details === 'string' ? JSON.parse(row.details) : row.details))
}

/** Wrong passwords for `email` from clients without a known-device tag, until their budget is spent. */
async function lockOutUntrustedClients(email: string, ip?: string) {
  for (let i = 0; i < maxFailures; i++) {
    await expectAppError(browser(undefined, ip).caller.auth.signIn({ email, password: `attacker guess ${i} of many` }), 'INVALID_CREDENTIALS')
  }
}

describe('an attacker who knows only the email', () => {
  it("locks the account for untrusted clients; the owner's known device still signs in with the right password", async () => {
    const { user, password } = await createTestUser()
    const device = await ownersKnownDevice(user, password)
    const attacker = await createTestUser({ password: 'attacker own long passphrase 7' })
    const attackersOwnDevice = await ownersKnownDevice(attacker.user, attacker.password)

    // The review's repro: ten wrong passwords from one IP.
    await lockOutUntrustedClients(user.email, nextTestIp())

    // Inside the same windows, from another address: the owner's browser is not throttled by the
    // flood (it did not spend the known device's budget) and not locked by it.
    await expect(browser(device.cookie).caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })
    expect(await lockEvents(user.id)).toEqual([{ scope: 'untrusted_clients' }])

    // The exemption's other side. Past the per-account throttle, the lock itself answers every
    // client without this account's tag, for the right password too: a fresh browser, the
    // attacker's own known-device cookie (a tag for another account), and a forged tag.
    advanceClockForTests((perAccountWindowSeconds + 1) * 1000)
    const [deviceName, deviceValue] = attackersOwnDevice.cookie.split('=') as [string, string]
    const forged = `${deviceName}=${deviceValue.split('.')[0]}.${'A'.repeat(22)}`
    for (const cookie of [undefined, attackersOwnDevice.cookie, forged]) {
      const before = await countRows()
      const refused = browser(cookie)
      await expectAppError(refused.caller.auth.signIn({ email: user.email, password }), 'ACCOUNT_LOCKED')
      expect(Number(refused.responseHeaders.get('retry-after'))).toBeGreaterThan(0)
      expect(await countRows()).toEqual({ ...before, audit_events: before.audit_events + 1 })
    }
    // The owner's success did not refill the attacker's budget (a success resets only the budget it spent).
    const [bucket] = await sql('SELECT count FROM rate_limit_buckets WHERE `key` = ?', [`lockout:untrusted:${user.id}`])
    expect(Number(bucket!.count)).toBe(maxFailures)
  })

  it("cannot lock the owner's known device out of the MFA challenge by failing codes with the stolen password", async () => {
    const { user, password, secret } = await createMfaTestUser()
    const device = await ownersKnownDevice(user, password, secret)

    // An attacker who has the password spends the untrusted budget on wrong codes, challenge after challenge.
    let failures = 0
    while (failures < maxFailures) {
      const attacker = browser()
      expect(await attacker.caller.auth.signIn({ email: user.email, password })).toEqual({ status: 'mfa-required' })
      for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_CHALLENGE && failures < maxFailures; attempt++, failures++) {
        await expectAppError(attacker.caller.mfa.verify({ code: wrongTotpCode(secret) }), 'INVALID_CODE')
      }
    }
    await expectAppError(browser().caller.auth.signIn({ email: user.email, password }), 'ACCOUNT_LOCKED')

    const owner = browser(device.cookie)
    expect(await owner.caller.auth.signIn({ email: user.email, password })).toEqual({ status: 'mfa-required' })
    expect(await owner.caller.mfa.verify({ code: nextTotpCode(secret) })).toEqual({ status: 'signed-in' })
  })

  it("cannot lock the owner's signed-in known device out of step-up re-authentication", async () => {
    const { user, password } = await createTestUser()
    const { signedIn } = await ownersKnownDevice(user, password)
    await lockOutUntrustedClients(user.email)
    await expect(signedIn.caller.auth.reauthenticate({ password })).resolves.toMatchObject({ reauthenticatedAt: expect.any(String) })
  })
})

describe('a known device that guesses (stolen, shared or infected)', () => {
  it(`is stopped by its own budget: after ${maxFailuresPerKnownDevice} failures even the right password is refused from it, and nothing is written`, async () => {
    const { user, password } = await createTestUser()
    const device = await ownersKnownDevice(user, password)
    for (let i = 0; i < maxFailuresPerKnownDevice; i++) {
      // A new address each time: the budget follows the device, not the IP.
      await expectAppError(browser(device.cookie).caller.auth.signIn({ email: user.email, password: `device guess ${i} here` }), 'INVALID_CREDENTIALS')
    }

    const before = await countRows()
    const refused = browser(device.cookie)
    await expectAppError(refused.caller.auth.signIn({ email: user.email, password }), 'ACCOUNT_LOCKED')
    expect(await lockEvents(user.id)).toEqual([{ scope: 'known_device' }])
    const retryAfter = Number(refused.responseHeaders.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds)
    expect(refused.responseHeaders.getSetCookie()).toEqual([])
    expect(await countRows()).toEqual({ ...before, audit_events: before.audit_events + 1 })

    // Its failures were its own: they did not lock the account for anyone else.
    await expect(browser().caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })
    // And its budget comes back with the window.
    advanceClockForTests((windowSeconds + 1) * 1000)
    await expect(browser(device.cookie).caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })
  })
})

describe('user enumeration under lockout', () => {
  it('a locked known email and a locked unknown email answer alike, also to a client holding a known-device cookie of its own account', async () => {
    const { user } = await createTestUser()
    const unknownEmail = uniqueEmail('ghost')
    const prober = await createTestUser({ password: 'prober own long passphrase 8' })
    const probersDevice = await ownersKnownDevice(prober.user, prober.password)
    await lockOutUntrustedClients(user.email)
    await lockOutUntrustedClients(unknownEmail)

    for (const cookie of [undefined, probersDevice.cookie]) {
      // First the per-account throttle answers, then (past its window) the lock: the same for both.
      const known = await catchTrpcError(browser(cookie).caller.auth.signIn({ email: user.email, password: 'one more guess here' }))
      const unknown = await catchTrpcError(browser(cookie).caller.auth.signIn({ email: unknownEmail, password: 'one more guess here' }))
      expect(unknown).toMatchObject({ code: known.code, appCode: known.appCode, message: known.message })
    }
    advanceClockForTests((perAccountWindowSeconds + 1) * 1000)
    for (const cookie of [undefined, probersDevice.cookie]) {
      const known = browser(cookie)
      const unknown = browser(cookie)
      const knownError = await expectAppError(known.caller.auth.signIn({ email: user.email, password: 'one more guess here' }), 'ACCOUNT_LOCKED')
      const unknownError = await expectAppError(unknown.caller.auth.signIn({ email: unknownEmail, password: 'one more guess here' }), 'ACCOUNT_LOCKED')
      expect(unknownError.message).toBe(knownError.message)
      expect(Math.abs(Number(known.responseHeaders.get('retry-after')) - Number(unknown.responseHeaders.get('retry-after')))).toBeLessThanOrEqual(10)
    }
  })
})

/**
 * Overdrawing a budget with a parallel burst (found by review: the budget was read before the
 * password was checked and counted after, so 40 concurrent guesses were all checked against a
 * known device's budget of 5, and against step-up's budget of 10). An attempt is now taken before
 * the check, in one statement.
 */
describe('a parallel burst of wrong passwords', () => {
  function outcomes(results: PromiseSettledResult<unknown>[]) {
    return results.map((result) => (result.status === 'fulfilled' ? 'signed-in' : (result.reason as { cause?: { appCode?: string } }).cause?.appCode))
  }

  it('from a known device checks at most that device’s budget', async () => {
    const { user, password } = await createTestUser({ email: uniqueEmail('burst-device') })
    const { cookie } = await ownersKnownDevice(user, password)
    const burst = await Promise.allSettled(Array.from({ length: maxFailuresPerKnownDevice * 4 }, (_, i) => browser(cookie).caller.auth.signIn({ email: user.email, password: `burst guess ${i}` })))
    const answers = outcomes(burst)
    expect(answers.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(maxFailuresPerKnownDevice)
    expect(answers.filter((code) => code === 'ACCOUNT_LOCKED')).toHaveLength(maxFailuresPerKnownDevice * 3)
  })

  it('at step-up, through a signed-in session, checks at most the budget', async () => {
    const { user, password } = await createTestUser({ email: uniqueEmail('burst-reauth') })
    const session = browser()
    await session.caller.auth.signIn({ email: user.email, password })
    advanceClockForTests(24 * 60 * 60 * 1000)
    // A fresh browser holding only that session's cookie: no known-device tag, the shared budget.
    const sessionCookie = session.responseHeaders.getSetCookie().map((line) => line.split(';')[0]!).find((pair) => pair.includes('session'))!
    const burst = await Promise.allSettled(Array.from({ length: maxFailures * 3 }, (_, i) => browser(sessionCookie).caller.auth.reauthenticate({ password: `burst guess ${i}` })))
    const answers = outcomes(burst)
    expect(answers.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(maxFailures)
    expect(answers.filter((code) => code === 'ACCOUNT_LOCKED')).toHaveLength(maxFailures * 2)
  })
})
