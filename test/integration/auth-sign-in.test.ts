/**
 * auth.signIn: the cookie's flags, tokens that exist only as hashes at rest, a new token on every
 * sign-in (session fixation), and failures that never tell whether an email has an account —
 * not by message, not by timing, not by lockout.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { sha256 } from '@oslojs/crypto/sha2'
import { encodeHexLowerCase } from '@oslojs/encoding'
import { parseSessionToken } from '../../src/server/auth/session'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { resetServerEnvForTests } from '../../src/server/env'
import appConfig from '../../app.config'
import { callerWithResponse } from '../support/caller'
import {
  callerWithToken,
  countRows,
  createTestOrganization,
  createTestUser,
  getSetSessionCookie,
  nextTestIp,
  parseSetCookies,
  requireIssuedToken,
  signedInCaller,
  sql,
  uniqueEmail,
} from '../support/auth-fixtures'
import { catchTrpcError, expectAppError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

function anonymousCaller(ip = nextTestIp()) {
  return callerWithResponse({ ip, headers: { 'user-agent': 'SignInTest/1.0' } })
}

async function signIn(email: string, password: string, options: { cookie?: string; ip?: string } = {}) {
  const { caller, responseHeaders } = callerWithResponse({ ip: options.ip ?? nextTestIp(), cookie: options.cookie, headers: { 'user-agent': 'SignInTest/1.0' } })
  const result = await caller.auth.signIn({ email, password })
  return { result, token: requireIssuedToken(responseHeaders), responseHeaders }
}

function sha256Hex(value: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(value)))
}

describe('a successful sign-in', () => {
  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/, without Domain, and without Secure on http', async () => {
    const { user, password } = await createTestUser()
    const { result, responseHeaders } = await signIn(user.email, password)
    expect(result).toEqual({ status: 'signed-in' })

    // The session cookie, and the known-device cookie (ADR 013) with the same attributes.
    const cookies = parseSetCookies(responseHeaders)
    expect(cookies.map((entry) => entry.name).sort()).toEqual(['gatehouse_session', 'gatehouse_session_device'])
    for (const entry of cookies) expect([entry.attributes.get('httponly'), entry.attributes.get('samesite'), entry.attributes.has('domain')]).toEqual([true, 'Lax', false])
    const cookie = getSetSessionCookie(responseHeaders)!
    expect(cookie.name).toBe('gatehouse_session')
    expect(cookie.attributes.get('httponly')).toBe(true)
    expect(cookie.attributes.get('samesite')).toBe('Lax')
    expect(cookie.attributes.get('path')).toBe('/')
    expect(cookie.attributes.has('domain')).toBe(false)
    expect(cookie.attributes.has('secure')).toBe(false)
    // The browser keeps it until the absolute lifetime; the server enforces the idle timeout.
    const expires = new Date(String(cookie.attributes.get('expires'))).getTime()
    expect(Math.abs(expires - (Date.now() + appConfig.session.absoluteLifetimeSeconds * 1000))).toBeLessThan(5_000)
    expect(parseSessionToken(cookie.value)).not.toBeNull()
  })

  it('over https the cookie is __Host- prefixed and Secure (cookie tossing from a sibling subdomain)', async () => {
    const previous = process.env.APP_URL
    process.env.APP_URL = 'https://gatehouse.example.test'
    resetServerEnvForTests()
    try {
      const { user, password } = await createTestUser()
      const { caller, responseHeaders } = anonymousCaller()
      await caller.auth.signIn({ email: user.email, password })
      const [cookie] = parseSetCookies(responseHeaders)
      expect(cookie!.name).toBe('__Host-gatehouse_session')
      expect(cookie!.attributes.get('secure')).toBe(true)
      expect(cookie!.attributes.get('path')).toBe('/')
      expect(cookie!.attributes.has('domain')).toBe(false)
      // The unprefixed name is not read on https, so a planted `gatehouse_session` grants nothing.
      const planted = callerWithResponse({ ip: nextTestIp(), cookie: `gatehouse_session=${cookie!.value}` }).caller
      expect(await planted.auth.me()).toBeNull()
      const real = callerWithResponse({ ip: nextTestIp(), cookie: `__Host-gatehouse_session=${cookie!.value}` }).caller
      expect(await real.auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id } })
    } finally {
      process.env.APP_URL = previous
      resetServerEnvForTests()
    }
  })

  it('stores only the SHA-256 of the token secret: the secret and the token appear in no column', async () => {
    const { user, password } = await createTestUser()
    const { token } = await signIn(user.email, password)
    const { id, secret } = parseSessionToken(token)!

    const [row] = await sql('SELECT * FROM sessions WHERE id = ?', [id])
    expect(row).toBeDefined()
    expect(row!.secret_hash).toBe(sha256Hex(secret))
    expect(row!.user_agent).toBe('SignInTest/1.0')
    expect(row!.auth_method).toBe('password')
    // A dump of every table the request touched holds neither the secret nor the whole token.
    for (const table of ['sessions', 'users', 'audit_events', 'rate_limit_buckets']) {
      const dump = JSON.stringify(await sql(`SELECT * FROM \`${table}\``))
      expect(dump, table).not.toContain(secret)
      expect(dump, table).not.toContain(token)
    }
  })

  it('the email is normalised at sign-in too (trim, lower-case)', async () => {
    const { user, password } = await createTestUser()
    const { result } = await signIn(`  ${user.email.toUpperCase()} `, password)
    expect(result).toEqual({ status: 'signed-in' })
  })
})

describe('sign-in and the MFA policy', () => {
  it("an MFA user's password alone gives an MFA-pending session that reaches nothing but the MFA step", async () => {
    const { user, password } = await createTestUser({ isMfaEnabled: true })
    const auditBefore = await sql("SELECT COUNT(*) AS n FROM audit_events WHERE type = 'auth.sign_in.succeeded'")
    const { result, token } = await signIn(user.email, password)
    expect(result).toEqual({ status: 'mfa-required' })

    const { caller } = callerWithToken(token)
    // The pending session learns nothing about the account beyond "a code is due".
    expect(await caller.auth.me()).toEqual({ status: 'mfa-pending' })
    await expectAppError(caller.sessions.list(), 'MFA_REQUIRED')
    await expectAppError(caller.auth.reauthenticate({ password }), 'MFA_REQUIRED')
    // The password step alone is not a successful sign-in.
    expect(await sql("SELECT COUNT(*) AS n FROM audit_events WHERE type = 'auth.sign_in.succeeded'")).toEqual(auditBefore)
  })

  it('a user without a factor in an organization that requires MFA is sent to enrollment first', async () => {
    const organization = await createTestOrganization({ mfaPolicy: 'required' })
    const { user, password } = await createTestUser({ organizationId: organization.id })
    const { result, token } = await signIn(user.email, password)
    expect(result).toEqual({ status: 'mfa-enrollment-required' })
    const { caller } = callerWithToken(token)
    expect(await caller.auth.me()).toMatchObject({ status: 'mfa-enrollment-required', user: { id: user.id } })
    await expectAppError(caller.sessions.list(), 'MFA_ENROLLMENT_REQUIRED')
  })
})

describe('session fixation: every sign-in issues a new token and ends the one presented', () => {
  it('two sign-ins give two different tokens', async () => {
    const { user, password } = await createTestUser()
    const first = await signIn(user.email, password)
    const second = await signIn(user.email, password)
    expect(first.token).not.toBe(second.token)
    expect(parseSessionToken(first.token)!.id).not.toBe(parseSessionToken(second.token)!.id)
  })

  it('signing in while holding a session kills the old session: its cookie is dead afterwards', async () => {
    const { user, password } = await createTestUser()
    const first = await signIn(user.email, password)
    const second = await signIn(user.email, password, { cookie: `gatehouse_session=${first.token}` })

    expect(await callerWithToken(first.token).caller.auth.me()).toBeNull()
    await expectAppError(callerWithToken(first.token).caller.sessions.list(), 'UNAUTHENTICATED')
    expect(await callerWithToken(second.token).caller.auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id } })
    const rows = await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])
    expect(rows.map((row) => row.id)).toEqual([parseSessionToken(second.token)!.id])
  })

  it("a session planted in the victim's browser (another account's) is ended when the victim signs in", async () => {
    const { user: attacker } = await createTestUser()
    const { token: plantedToken, sessionId: plantedId } = await signedInCaller(attacker)
    const { user: victim, password } = await createTestUser()

    const { token } = await signIn(victim.email, password, { cookie: `gatehouse_session=${plantedToken}` })
    expect(token).not.toBe(plantedToken)
    expect(await sql('SELECT id FROM sessions WHERE id = ?', [plantedId])).toHaveLength(0)
    expect(await callerWithToken(token).caller.auth.me()).toMatchObject({ user: { id: victim.id } })
  })

  it("knowing a session id is not enough to end it: signing in or up with a forged cookie leaves the victim's session alive", async () => {
    const { user: victim } = await createTestUser()
    const victimSession = await signedInCaller(victim)
    // Session ids are not secret (sessions list, audit details); only the secret proves possession.
    const forgedCookie = `gatehouse_session=${victimSession.sessionId}.${'a'.repeat(32)}`
    const { user: attacker, password } = await createTestUser()

    await signIn(attacker.email, password, { cookie: forgedCookie })
    await callerWithResponse({ ip: nextTestIp(), cookie: forgedCookie }).caller.auth.signUp({ email: uniqueEmail('attacker'), password, name: 'Attacker' })

    expect(await sql('SELECT id FROM sessions WHERE id = ?', [victimSession.sessionId])).toHaveLength(1)
    expect(await callerWithToken(victimSession.token).caller.auth.me()).toMatchObject({ user: { id: victim.id } })
  })

  it('a failed sign-in leaves the session the browser holds alone (a typo does not sign you out)', async () => {
    const { user, password } = await createTestUser()
    const { token } = await signIn(user.email, password)
    const { caller } = callerWithToken(token)
    await expectAppError(caller.auth.signIn({ email: user.email, password: 'wrong password, sorry' }), 'INVALID_CREDENTIALS')
    expect(await callerWithToken(token).caller.auth.me()).toMatchObject({ user: { id: user.id } })
  })
})

describe('user enumeration: unknown email and wrong password look the same', () => {
  it('same error code, same message, no cookie, no session for either', async () => {
    const { user } = await createTestUser()
    const before = await countRows()

    const unknown = anonymousCaller()
    const unknownError = await expectAppError(unknown.caller.auth.signIn({ email: uniqueEmail('nobody'), password: 'some password 123' }), 'INVALID_CREDENTIALS')
    const wrong = anonymousCaller()
    const wrongError = await expectAppError(wrong.caller.auth.signIn({ email: user.email, password: 'some password 123' }), 'INVALID_CREDENTIALS')

    expect(unknownError.message).toBe(wrongError.message)
    expect(unknownError.code).toBe(wrongError.code)
    expect(unknown.responseHeaders.getSetCookie()).toEqual([])
    expect(wrong.responseHeaders.getSetCookie()).toEqual([])
    const after = await countRows()
    // Only the two failure audit events were written.
    expect(after).toEqual({ ...before, audit_events: before.audit_events + 2 })
  })

  it('similar timing: the unknown-email path runs argon2 too (medians of 7 within 3x)', async () => {
    const { user } = await createTestUser()
    // Warm both paths (the dummy hash is computed once per process).
    await catchTrpcError(anonymousCaller().caller.auth.signIn({ email: uniqueEmail('warm'), password: 'warm up password' }))
    await catchTrpcError(anonymousCaller().caller.auth.signIn({ email: user.email, password: 'warm up password' }))

    const unknownMs: number[] = []
    const wrongMs: number[] = []
    const time = async (email: string) => {
      const started = performance.now()
      await catchTrpcError(anonymousCaller().caller.auth.signIn({ email, password: 'definitely not it' }))
      return performance.now() - started
    }
    // Interleaved, so load on the machine hits both series alike. 1 + 7 failures stay under the
    // per-account limit and the lockout (10 each).
    for (let i = 0; i < 7; i++) {
      unknownMs.push(await time(uniqueEmail('timing')))
      wrongMs.push(await time(user.email))
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const ratio = median(unknownMs) / median(wrongMs)
    expect(ratio, `unknown ${unknownMs.map(Math.round)} vs wrong ${wrongMs.map(Math.round)}`).toBeGreaterThan(1 / 3)
    expect(ratio).toBeLessThan(3)
  })

  it('a disabled account answers the generic error to a wrong password, so only the password holder learns it is disabled', async () => {
    const { user } = await createTestUser({ isDisabled: true })
    const before = await countRows()
    const caught = await expectAppError(anonymousCaller().caller.auth.signIn({ email: user.email, password: 'not the right password' }), 'INVALID_CREDENTIALS')
    expect(caught.message).toBe('Email or password is incorrect.')
    // The failure counts toward the lockout and is audited; nothing else is written.
    expect(await countRows()).toEqual({ ...before, audit_events: before.audit_events + 1 })
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(0)
  })

  it('a disabled account with the right password is told it is disabled, and gets no session', async () => {
    const { user, password } = await createTestUser({ isDisabled: true })
    const before = await countRows()
    const caught = await expectAppError(anonymousCaller().caller.auth.signIn({ email: user.email, password }), 'ACCOUNT_DISABLED')
    expect(caught.message).toMatch(/disabled/)
    expect(await countRows()).toEqual({ ...before, audit_events: before.audit_events + 1 })
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(0)
  })

  it('a locked SSO-only account (no password hash) still costs an argon2 run, like a locked unknown email', async () => {
    const { user } = await createTestUser()
    await sql('UPDATE users SET password_hash = NULL WHERE id = ?', [user.id])
    const unknownEmail = uniqueEmail('ghost')
    for (const email of [user.email, unknownEmail]) {
      for (let i = 0; i < appConfig.lockout.maxFailures; i++) {
        await expectAppError(anonymousCaller().caller.auth.signIn({ email, password: `guess ${i} of many` }), 'INVALID_CREDENTIALS')
      }
    }
    // Past the per-account throttle, so the lock itself answers.
    advanceClockForTests((appConfig.rateLimits.signInPerAccount.windowSeconds + 1) * 1000)
    const time = async (email: string) => {
      const started = performance.now()
      await expectAppError(anonymousCaller().caller.auth.signIn({ email, password: 'still guessing here' }), 'ACCOUNT_LOCKED')
      return performance.now() - started
    }
    const ssoMs: number[] = []
    const unknownMs: number[] = []
    for (let i = 0; i < 5; i++) {
      ssoMs.push(await time(user.email))
      unknownMs.push(await time(unknownEmail))
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const ratio = median(ssoMs) / median(unknownMs)
    expect(ratio, `sso ${ssoMs.map(Math.round)} vs unknown ${unknownMs.map(Math.round)}`).toBeGreaterThan(1 / 3)
    expect(ratio).toBeLessThan(3)
  })

  it('an SSO-only account (no password hash) is refused with the same generic error', async () => {
    const { user } = await createTestUser()
    await sql('UPDATE users SET password_hash = NULL WHERE id = ?', [user.id])
    await expectAppError(anonymousCaller().caller.auth.signIn({ email: user.email, password: 'anything at all here' }), 'INVALID_CREDENTIALS')
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(0)
  })
})

describe('per-account lockout (online guessing from many IPs)', () => {
  const { maxFailures, windowSeconds } = appConfig.lockout
  const accountWindowSeconds = appConfig.rateLimits.signInPerAccount.windowSeconds

  /** Fails `maxFailures` times for the email, each attempt from a new IP (a botnet: no per-IP limit helps). */
  async function failUntilLocked(email: string) {
    for (let i = 0; i < maxFailures; i++) {
      await expectAppError(anonymousCaller().caller.auth.signIn({ email, password: `guess number ${i} here` }), 'INVALID_CREDENTIALS')
    }
  }

  it('after maxFailures failures even the right password is refused (ACCOUNT_LOCKED, no session), then it unlocks', async () => {
    const { user, password } = await createTestUser()
    await failUntilLocked(user.email)
    expect(await sql("SELECT id FROM audit_events WHERE type = 'account.locked' AND subject_user_id = ?", [user.id])).toHaveLength(1)

    // Inside the per-account rate-limit window the attempt is throttled before the lock is read.
    await expectAppError(anonymousCaller().caller.auth.signIn({ email: user.email, password }), 'RATE_LIMITED')
    // Past that window the lock itself answers, for the right password too.
    advanceClockForTests((accountWindowSeconds + 1) * 1000)
    const before = await countRows()
    const locked = anonymousCaller()
    await expectAppError(locked.caller.auth.signIn({ email: user.email, password }), 'ACCOUNT_LOCKED')
    expect(locked.responseHeaders.getSetCookie()).toEqual([])
    const retryAfter = Number(locked.responseHeaders.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds - accountWindowSeconds)
    const after = await countRows()
    expect(after).toEqual({ ...before, audit_events: before.audit_events + 1 })
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(0)

    // The lock ends with its window; a successful sign-in clears the failure count.
    advanceClockForTests(windowSeconds * 1000)
    await expect(anonymousCaller().caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })
    expect(await sql('SELECT `key` FROM rate_limit_buckets WHERE `key` = ?', [`lockout:untrusted:${user.id}`])).toHaveLength(0)
  })

  it('an unknown email locks exactly like a real one (no enumeration through the lockout)', async () => {
    const { user } = await createTestUser()
    const unknownEmail = uniqueEmail('ghost')
    await failUntilLocked(user.email)
    await failUntilLocked(unknownEmail)

    const known = await catchTrpcError(anonymousCaller().caller.auth.signIn({ email: user.email, password: 'one more guess here' }))
    const unknown = await catchTrpcError(anonymousCaller().caller.auth.signIn({ email: unknownEmail, password: 'one more guess here' }))
    expect(unknown).toMatchObject({ code: known.code, appCode: known.appCode, message: known.message })

    advanceClockForTests((accountWindowSeconds + 1) * 1000)
    const knownLocked = anonymousCaller()
    const unknownLocked = anonymousCaller()
    const knownError = await expectAppError(knownLocked.caller.auth.signIn({ email: user.email, password: 'one more guess here' }), 'ACCOUNT_LOCKED')
    const unknownError = await expectAppError(unknownLocked.caller.auth.signIn({ email: unknownEmail, password: 'one more guess here' }), 'ACCOUNT_LOCKED')
    expect(unknownError.message).toBe(knownError.message)
    // Both answers say when to come back; the values differ only by when each window started.
    const knownRetry = Number(knownLocked.responseHeaders.get('retry-after'))
    const unknownRetry = Number(unknownLocked.responseHeaders.get('retry-after'))
    expect(knownRetry).toBeGreaterThan(0)
    expect(Math.abs(knownRetry - unknownRetry)).toBeLessThanOrEqual(10)
  })
})
