/**
 * Rate limits stored in MySQL (SPEC §7): password spraying from one IP, sign-up floods, and the
 * atomic counter underneath. Throttled answers are 429 with Retry-After and write nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { consumeRateLimit } from '../../src/server/auth/rate-limit'
import { advanceClockForTests, now, resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { callerWithResponse } from '../support/caller'
import { countRows, createTestUser, nextTestIp, sql, TEST_PASSWORD, uniqueEmail } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

describe('sign-in per IP (password spraying)', () => {
  const { limit, windowSeconds } = appConfig.rateLimits.signInPerIp

  it(`after ${limit} attempts from one IP the next is refused with RATE_LIMITED and Retry-After, writing nothing`, async () => {
    const { user, password } = await createTestUser()
    const sprayIp = nextTestIp()
    // Different (unknown) accounts each time, so only the per-IP budget is spent.
    for (let i = 0; i < limit; i++) {
      await expectAppError(callerWithResponse({ ip: sprayIp }).caller.auth.signIn({ email: uniqueEmail('spray'), password: 'Spring2026!spray' }), 'INVALID_CREDENTIALS')
    }

    const before = await countRows()
    const refused = callerWithResponse({ ip: sprayIp })
    // Even the right password of a real account: the throttle answers before any verification.
    await expectAppError(refused.caller.auth.signIn({ email: user.email, password }), 'RATE_LIMITED')
    const retryAfter = Number(refused.responseHeaders.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds)
    expect(refused.responseHeaders.getSetCookie()).toEqual([])
    expect(await countRows()).toEqual(before)

    // Another client is not affected by this one's budget.
    await expect(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })

    // The window passes and the IP may try again.
    advanceClockForTests((windowSeconds + 1) * 1000)
    await expect(callerWithResponse({ ip: sprayIp }).caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })
  })

  it('bucket keys never hold a raw email (the table is no list of who tried to sign in)', async () => {
    const local = `secret.person${Date.now()}`
    const ip = nextTestIp()
    await expectAppError(callerWithResponse({ ip }).caller.auth.signIn({ email: `${local}@Example.test`, password: 'whatever password' }), 'INVALID_CREDENTIALS')
    await expectAppError(callerWithResponse({ ip }).caller.auth.signUp({ email: `${local}@example.test`, password: 'short', name: 'S' }), 'PASSWORD_POLICY')
    const keys = (await sql('SELECT `key` FROM rate_limit_buckets')).map((row) => String(row.key))
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) {
      expect(key).not.toContain('@')
      expect(key.toLowerCase()).not.toContain(local.toLowerCase())
    }
    expect(keys).toContain(`signInPerIp:${ip}`)
  })
})

describe('sign-in per account (one account, many IPs)', () => {
  it(`after ${appConfig.rateLimits.signInPerAccount.limit} attempts on one account, a new IP is throttled too`, async () => {
    const { user, password } = await createTestUser()
    for (let i = 0; i < appConfig.rateLimits.signInPerAccount.limit; i++) {
      await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password: `guess ${i} for the account` }), 'INVALID_CREDENTIALS')
    }
    const refused = callerWithResponse({ ip: nextTestIp() })
    await expectAppError(refused.caller.auth.signIn({ email: ` ${user.email.toUpperCase()}`, password }), 'RATE_LIMITED')
    expect(Number(refused.responseHeaders.get('retry-after'))).toBeGreaterThan(0)
  })
})

describe('sign-up per IP (account creation floods, email-taken probing)', () => {
  const { limit, windowSeconds } = appConfig.rateLimits.signUpPerIp

  it(`the ${limit + 1}th sign-up from one IP within the window is refused with Retry-After and creates nothing`, async () => {
    const ip = nextTestIp()
    // Refused by policy, but each attempt still spends the budget (EMAIL_TAKEN probes do too).
    for (let i = 0; i < limit; i++) {
      await expectAppError(callerWithResponse({ ip }).caller.auth.signUp({ email: uniqueEmail('flood'), password: 'short', name: 'Flood' }), 'PASSWORD_POLICY')
    }
    const before = await countRows()
    const refused = callerWithResponse({ ip })
    await expectAppError(refused.caller.auth.signUp({ email: uniqueEmail('flood'), password: TEST_PASSWORD, name: 'Flood' }), 'RATE_LIMITED')
    const retryAfter = Number(refused.responseHeaders.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds)
    expect(await countRows()).toEqual(before)
  })
})

describe('the counter (consumeRateLimit)', () => {
  it('concurrent attempts cannot slip past the limit: one atomic upsert, no read-modify-write race', async () => {
    const policy = { limit: 10, windowSeconds: 60 }
    const subject = `race-${Date.now()}`
    const at = now()
    const decisions = await Promise.all(Array.from({ length: 25 }, () => consumeRateLimit(getDb(), 'test', policy, subject, at)))
    expect(decisions.filter((decision) => decision.isAllowed)).toHaveLength(10)
    expect(decisions.map((decision) => decision.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    for (const refused of decisions.filter((decision) => !decision.isAllowed)) {
      expect(refused.retryAfterSeconds).toBeGreaterThan(0)
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60)
    }
  })

  it('a new window starts from one, and buckets of different subjects never mix', async () => {
    const policy = { limit: 2, windowSeconds: 60 }
    const subject = `window-${Date.now()}`
    const start = now()
    expect((await consumeRateLimit(getDb(), 'test', policy, subject, start)).count).toBe(1)
    expect((await consumeRateLimit(getDb(), 'test', policy, subject, start)).count).toBe(2)
    expect((await consumeRateLimit(getDb(), 'test', policy, `${subject}-other`, start)).count).toBe(1)
    const refused = await consumeRateLimit(getDb(), 'test', policy, subject, new Date(start.getTime() + 30_000))
    expect(refused).toMatchObject({ isAllowed: false, count: 3, retryAfterSeconds: 30 })
    const nextWindow = await consumeRateLimit(getDb(), 'test', policy, subject, new Date(start.getTime() + 60_000))
    expect(nextWindow).toMatchObject({ isAllowed: true, count: 1 })
  })
})
