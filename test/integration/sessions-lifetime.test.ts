/**
 * Session lifetimes (SPEC §2) with the controllable clock: idle timeout, sliding renewal written
 * at most once per interval, an absolute lifetime nothing extends, the short life of an MFA
 * challenge session, the purge, and tokens that do not validate when tampered with.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { purgeExpiredSessions } from '../../src/server/auth/session'
import { advanceClockForTests, now, resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, countRows, createTestUser, getSetSessionCookie, nextTestIp, requireIssuedToken, signedInCaller, sql } from '../support/auth-fixtures'
import { createMfaTestUser, nextTotpCode } from '../support/mfa-fixtures'
import { expectAppError } from '../support/trpc-errors'

const { idleTimeoutSeconds, renewalIntervalSeconds, absoluteLifetimeSeconds } = appConfig.session
const { challengeLifetimeSeconds } = appConfig.mfa
const SECOND = 1000
const HOUR = 3600 * SECOND

afterEach(() => {
  resetClockForTests()
})

async function readSessionTimes(sessionId: string) {
  const [row] = await sql('SELECT created_at AS createdAt, expires_at AS expiresAt, absolute_expires_at AS absoluteExpiresAt, last_seen_at AS lastSeenAt FROM sessions WHERE id = ?', [sessionId])
  return row as { createdAt: Date; expiresAt: Date; absoluteExpiresAt: Date; lastSeenAt: Date } | undefined
}

/** One request with the token, as the next page load would make it. */
function touch(token: string) {
  return callerWithToken(token).caller.auth.me()
}

describe('idle timeout', () => {
  it('a session unused for the idle timeout is dead on the next request and its row is deleted', async () => {
    const { user } = await createTestUser()
    const early = await signedInCaller(user)
    const idle = await signedInCaller(user)

    advanceClockForTests(idleTimeoutSeconds * SECOND - SECOND)
    expect(await touch(early.token)).toMatchObject({ user: { id: user.id } })

    advanceClockForTests(SECOND)
    expect(await touch(idle.token)).toBeNull()
    await expectAppError(callerWithToken(idle.token).caller.sessions.list(), 'UNAUTHENTICATED')
    expect(await readSessionTimes(idle.sessionId)).toBeUndefined()
  })

  it('activity before the idle timeout renews it (sliding expiry)', async () => {
    const { user } = await createTestUser()
    const { token, sessionId } = await signedInCaller(user)
    const step = idleTimeoutSeconds * SECOND - HOUR
    advanceClockForTests(step)
    expect(await touch(token)).not.toBeNull()
    const renewed = await readSessionTimes(sessionId)
    expect(Math.abs(renewed!.expiresAt.getTime() - (now().getTime() + idleTimeoutSeconds * SECOND))).toBeLessThan(5 * SECOND)

    // Nearly two idle timeouts after sign-in, alive because it was used in between.
    advanceClockForTests(step)
    expect(await touch(token)).toMatchObject({ user: { id: user.id } })
  })
})

describe('absolute lifetime', () => {
  it('renewal never extends a session past absolute_expires_at, and at that instant it dies', async () => {
    const { user } = await createTestUser()
    const { token, sessionId, session } = await signedInCaller(user)
    const absoluteExpiresAt = session.absoluteExpiresAt.getTime()
    const step = idleTimeoutSeconds * SECOND - HOUR

    // Used diligently, just before every idle expiry, until the absolute limit is near.
    while (now().getTime() + step < absoluteExpiresAt) {
      advanceClockForTests(step)
      expect(await touch(token)).not.toBeNull()
      const times = await readSessionTimes(sessionId)
      expect(times!.absoluteExpiresAt.getTime()).toBe(absoluteExpiresAt)
      expect(times!.expiresAt.getTime()).toBeLessThanOrEqual(absoluteExpiresAt)
    }
    expect((await readSessionTimes(sessionId))!.expiresAt.getTime()).toBe(absoluteExpiresAt)

    advanceClockForTests(absoluteExpiresAt - now().getTime() - SECOND)
    expect(await touch(token)).not.toBeNull()
    advanceClockForTests(SECOND)
    expect(await touch(token)).toBeNull()
    expect(await readSessionTimes(sessionId)).toBeUndefined()
  })

  it('the absolute lifetime is counted from sign-in', async () => {
    const { session } = await signedInCaller((await createTestUser()).user)
    expect(session.absoluteExpiresAt.getTime() - session.createdAt.getTime()).toBe(absoluteLifetimeSeconds * SECOND)
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(idleTimeoutSeconds * SECOND)
  })
})

/**
 * Threat: the password step alone (guessed, stuffed or phished) yields a session that owes its
 * second factor. Living the full idle timeout (7 days) and absolute lifetime (30 days), it is a
 * foothold that waits days for a code to be phished too. It lives `mfa.challengeLifetimeSeconds`;
 * proving the factor turns it into a full session with the normal lifetimes.
 */
describe('an MFA challenge session (password proven, second factor owed)', () => {
  /** The password step of a sign-in through the router; the (pending) token and its cookie. */
  async function signInWithPassword(email: string, password: string) {
    const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })
    expect(await caller.auth.signIn({ email, password })).toEqual({ status: 'mfa-required' })
    const token = requireIssuedToken(responseHeaders)
    return { token, sessionId: token.split('.')[0]!, cookie: getSetSessionCookie(responseHeaders)! }
  }

  it('lives mfa.challengeLifetimeSeconds, not the idle timeout: the code is due within minutes, then the row is gone', async () => {
    const { user, password } = await createMfaTestUser()
    const { token, sessionId, cookie } = await signInWithPassword(user.email, password)
    const times = (await readSessionTimes(sessionId))!
    const challengeEndsAt = times.createdAt.getTime() + challengeLifetimeSeconds * SECOND
    expect([times.expiresAt.getTime(), times.absoluteExpiresAt.getTime()]).toEqual([challengeEndsAt, challengeEndsAt])
    // The browser forgets the cookie then too.
    expect(new Date(String(cookie.attributes.get('expires'))).getTime()).toBe(Math.floor(challengeEndsAt / SECOND) * SECOND)

    advanceClockForTests(challengeLifetimeSeconds * SECOND - SECOND)
    expect(await touch(token)).toEqual({ status: 'mfa-pending' })
    advanceClockForTests(SECOND)
    expect(await touch(token)).toBeNull()
    await expectAppError(callerWithToken(token).caller.mfa.verify({ code: '000000' }), 'UNAUTHENTICATED')
    expect(await readSessionTimes(sessionId)).toBeUndefined()
  })

  it('proving the factor rotates it into a full session: idle timeout from now, absolute lifetime from the sign-in', async () => {
    const { user, password, secret } = await createMfaTestUser()
    const { token, sessionId } = await signInWithPassword(user.email, password)
    const signedInAt = (await readSessionTimes(sessionId))!.createdAt.getTime()

    advanceClockForTests(challengeLifetimeSeconds * SECOND - 60 * SECOND)
    const { caller, responseHeaders } = callerWithToken(token)
    expect(await caller.mfa.verify({ code: nextTotpCode(secret) })).toEqual({ status: 'signed-in' })
    const fullToken = requireIssuedToken(responseHeaders)
    const fullSessionId = fullToken.split('.')[0]!
    const full = (await readSessionTimes(fullSessionId))!
    expect(full.createdAt.getTime()).toBe(signedInAt)
    expect(full.absoluteExpiresAt.getTime()).toBe(signedInAt + absoluteLifetimeSeconds * SECOND)
    expect(Math.abs(full.expiresAt.getTime() - (now().getTime() + idleTimeoutSeconds * SECOND))).toBeLessThan(5 * SECOND)
    expect(new Date(String(getSetSessionCookie(responseHeaders)!.attributes.get('expires'))).getTime()).toBe(Math.floor(full.absoluteExpiresAt.getTime() / SECOND) * SECOND)

    // Well past the challenge's end, the session lives on.
    advanceClockForTests(idleTimeoutSeconds * SECOND - HOUR)
    expect(await touch(fullToken)).toMatchObject({ status: 'signed-in', user: { id: user.id } })
  })

  it('a user without a second factor gets the normal lifetimes at the password step', async () => {
    const { user, password } = await createTestUser()
    const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })
    expect(await caller.auth.signIn({ email: user.email, password })).toEqual({ status: 'signed-in' })
    const times = (await readSessionTimes(requireIssuedToken(responseHeaders).split('.')[0]!))!
    expect(times.absoluteExpiresAt.getTime() - times.createdAt.getTime()).toBe(absoluteLifetimeSeconds * SECOND)
    expect(times.expiresAt.getTime() - times.createdAt.getTime()).toBe(idleTimeoutSeconds * SECOND)
  })
})

describe('renewal writes at most once per renewal interval (not on every request)', () => {
  it('last_seen_at and expires_at stay put inside the interval and move after it', async () => {
    const { user } = await createTestUser()
    const { token, sessionId } = await signedInCaller(user)
    const initial = await readSessionTimes(sessionId)

    advanceClockForTests(10 * 60 * SECOND)
    await touch(token)
    await touch(token)
    expect(await readSessionTimes(sessionId)).toEqual(initial)

    advanceClockForTests(renewalIntervalSeconds * SECOND)
    await touch(token)
    const renewed = await readSessionTimes(sessionId)
    expect(renewed!.lastSeenAt.getTime()).toBeGreaterThan(initial!.lastSeenAt.getTime())
    expect(renewed!.expiresAt.getTime()).toBeGreaterThan(initial!.expiresAt.getTime())

    advanceClockForTests(5 * 60 * SECOND)
    await touch(token)
    expect(await readSessionTimes(sessionId)).toEqual(renewed)
  })
})

describe('session state read on every request', () => {
  it("disabling a user ends their sessions on the very next request", async () => {
    const { user } = await createTestUser()
    const { token, sessionId } = await signedInCaller(user)
    expect(await touch(token)).not.toBeNull()
    await sql('UPDATE users SET disabled_at = ? WHERE id = ?', [now(), user.id])
    await expectAppError(callerWithToken(token).caller.sessions.list(), 'UNAUTHENTICATED')
    expect(await readSessionTimes(sessionId)).toBeUndefined()
  })
})

describe('tampered tokens (guessing, forging) are refused without side effects', () => {
  it("a known session id with a guessed secret is refused, and the victim's session survives untouched", async () => {
    const { user } = await createTestUser()
    const { token, sessionId } = await signedInCaller(user)
    const [id, secret] = token.split('.') as [string, string]
    advanceClockForTests(renewalIntervalSeconds * SECOND + SECOND)
    const before = await readSessionTimes(sessionId)
    const counts = await countRows()

    const forgeries = [
      `${id}.${'a'.repeat(32)}`,
      `${id}.${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`,
      `${id}.${secret.toUpperCase()}`,
      `${id.toUpperCase()}.${secret}`,
      `${id}.${secret}x`,
      `${id}${secret}`,
      `${id}.`,
      `.${secret}`,
      `${id}.${secret}.${secret}`,
      `' OR 1=1 -- .${secret}`,
    ]
    for (const forged of forgeries) {
      expect(await touch(forged), forged).toBeNull()
      await expectAppError(callerWithToken(forged).caller.sessions.list(), 'UNAUTHENTICATED')
    }
    // Not renewed, not deleted by someone who holds only its id.
    expect(await readSessionTimes(sessionId)).toEqual(before)
    expect(await countRows()).toEqual(counts)
    expect(await touch(token)).toMatchObject({ user: { id: user.id } })
  })
})

describe('purge of expired sessions', () => {
  it('deletes idle-expired and absolute-expired rows and keeps live ones', async () => {
    await sql('DELETE FROM sessions')
    const { user } = await createTestUser()
    const stale = await signedInCaller(user)
    advanceClockForTests(idleTimeoutSeconds * SECOND - HOUR)
    const live = await signedInCaller(user)
    // Idle expiry far away, absolute expiry already passed.
    const pastAbsolute = await signedInCaller(user)
    await sql('UPDATE sessions SET absolute_expires_at = ? WHERE id = ?', [new Date(now().getTime() - SECOND), pastAbsolute.sessionId])
    advanceClockForTests(2 * HOUR)

    expect(await purgeExpiredSessions(getDb(), now())).toBe(2)
    const remaining = await sql('SELECT id FROM sessions')
    expect(remaining.map((row) => row.id)).toEqual([live.sessionId])
    expect(stale.sessionId).not.toBe(live.sessionId)
  })
})
