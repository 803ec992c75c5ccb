/**
 * sessions.list / revoke / revokeOthers: a user sees and ends only their own sessions, and a
 * revoked session stops working on the very next request (nothing is cached between requests).
 */
import { describe, expect, it } from 'vitest'
import { callerWithToken, countRows, createTestUser, getSetSessionCookie, signedInCaller, sql } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

async function sessionIdsOf(userId: string): Promise<string[]> {
  const rows = await sql('SELECT id FROM sessions WHERE user_id = ? ORDER BY id', [userId])
  return rows.map((row) => String(row.id))
}

describe('sessions.list', () => {
  it('lists only my live sessions, marks this device, and exposes no secret', async () => {
    const { user } = await createTestUser()
    const { user: stranger } = await createTestUser()
    const other = await signedInCaller(user, { ip: '203.0.113.7' })
    const current = await signedInCaller(user)
    await signedInCaller(stranger)

    const list = await current.caller.sessions.list()
    expect(list.map((session) => session.id).sort()).toEqual([other.sessionId, current.sessionId].sort())
    expect(list.filter((session) => session.isCurrent).map((session) => session.id)).toEqual([current.sessionId])
    expect(list.find((session) => session.id === other.sessionId)).toMatchObject({ isCurrent: false, ip: '203.0.113.7', userAgent: 'vitest', authMethod: 'password' })
    for (const session of list) {
      expect(Object.keys(session).sort()).toEqual(['authMethod', 'createdAt', 'expiresAt', 'id', 'ip', 'isCurrent', 'isMfaSatisfied', 'lastSeenAt', 'userAgent'])
    }
    const serialized = JSON.stringify(list)
    expect(serialized).not.toContain(current.token.split('.')[1])
    expect(serialized).not.toContain(other.token.split('.')[1])
  })
})

describe('sessions.revoke', () => {
  it("revoking another user's session id answers NOT_FOUND, and their session survives (no cross-account revoke)", async () => {
    const { user: attacker } = await createTestUser()
    const { user: victim } = await createTestUser()
    const mine = await signedInCaller(attacker)
    const theirs = await signedInCaller(victim)
    const before = await countRows()

    await expectAppError(mine.caller.sessions.revoke({ id: theirs.sessionId }), 'NOT_FOUND')

    expect(await countRows()).toEqual(before)
    expect(await sessionIdsOf(victim.id)).toEqual([theirs.sessionId])
    expect(await callerWithToken(theirs.token).caller.auth.me()).toMatchObject({ user: { id: victim.id } })
  })

  it('an unknown session id answers the same NOT_FOUND', async () => {
    const { user } = await createTestUser()
    const mine = await signedInCaller(user)
    await expectAppError(mine.caller.sessions.revoke({ id: 'a'.repeat(26) }), 'NOT_FOUND')
  })

  it('revoking my other session is immediate: its very next request is UNAUTHORIZED', async () => {
    const { user } = await createTestUser()
    const stolen = await signedInCaller(user)
    const mine = await signedInCaller(user)
    // The thief's session is in use (its auth state would be warm in any cache).
    expect(await stolen.caller.auth.me()).not.toBeNull()

    await expect(mine.caller.sessions.revoke({ id: stolen.sessionId })).resolves.toEqual({ isCurrent: false })

    await expectAppError(stolen.caller.sessions.list(), 'UNAUTHENTICATED')
    expect(await stolen.caller.auth.me()).toBeNull()
    expect(await sessionIdsOf(user.id)).toEqual([mine.sessionId])
    expect(await mine.caller.auth.me()).toMatchObject({ user: { id: user.id } })
    const [event] = await sql("SELECT actor_user_id AS actor, details FROM audit_events WHERE type = 'session.revoked' ORDER BY id DESC LIMIT 1")
    expect(event!.actor).toBe(user.id)
    expect(typeof event!.details === 'string' ? JSON.parse(event!.details) : event!.details).toMatchObject({ sessionId: stolen.sessionId })
  })

  it('revoking the current session clears the cookie and ends it', async () => {
    const { user } = await createTestUser()
    const current = await signedInCaller(user)
    await expect(current.caller.sessions.revoke({ id: current.sessionId })).resolves.toEqual({ isCurrent: true })
    expect(getSetSessionCookie(current.responseHeaders)?.attributes.get('max-age')).toBe('0')
    await expectAppError(current.caller.sessions.list(), 'UNAUTHENTICATED')
  })
})

describe('sessions.revokeOthers', () => {
  it("ends every other session of mine, keeps this one, and leaves other users' sessions alone", async () => {
    const { user } = await createTestUser()
    const { user: bystander } = await createTestUser()
    const others = [await signedInCaller(user), await signedInCaller(user)]
    const current = await signedInCaller(user)
    const bystanderSession = await signedInCaller(bystander)

    await expect(current.caller.sessions.revokeOthers()).resolves.toEqual({ revoked: 2 })

    expect(await sessionIdsOf(user.id)).toEqual([current.sessionId])
    for (const other of others) await expectAppError(other.caller.sessions.list(), 'UNAUTHENTICATED')
    expect(await current.caller.sessions.list()).toHaveLength(1)
    expect(await sessionIdsOf(bystander.id)).toEqual([bystanderSession.sessionId])
  })
})
