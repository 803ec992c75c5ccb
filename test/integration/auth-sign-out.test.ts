/**
 * auth.signOut: the server forgets the session (a copied cookie is worthless afterwards) and the
 * browser is told to drop the cookie. Safe and silent when there is nothing to end.
 */
import { describe, expect, it } from 'vitest'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, countRows, createTestUser, getSetSessionCookie, nextTestIp, signedInCaller, sql } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

describe('auth.signOut', () => {
  it('deletes the session row, clears the cookie with the same flags, and the old token is dead', async () => {
    const { user } = await createTestUser()
    const { caller, responseHeaders, token, sessionId } = await signedInCaller(user)

    await expect(caller.auth.signOut()).resolves.toEqual({ status: 'signed-out' })

    expect(await sql('SELECT id FROM sessions WHERE id = ?', [sessionId])).toHaveLength(0)
    const cleared = getSetSessionCookie(responseHeaders)!
    expect(cleared.value).toBe('')
    expect(cleared.attributes.get('max-age')).toBe('0')
    expect(cleared.attributes.get('path')).toBe('/')
    expect(cleared.attributes.get('httponly')).toBe(true)
    expect(cleared.attributes.get('samesite')).toBe('Lax')
    expect(cleared.attributes.has('domain')).toBe(false)

    // A copy of the cookie (another tab, a thief) gets nothing.
    expect(await callerWithToken(token).caller.auth.me()).toBeNull()
    await expectAppError(callerWithToken(token).caller.sessions.list(), 'UNAUTHENTICATED')
    const [event] = await sql("SELECT actor_user_id AS actor FROM audit_events WHERE type = 'auth.sign_out' ORDER BY id DESC LIMIT 1")
    expect(event?.actor).toBe(user.id)
  })

  it("signing out ends only this device's session", async () => {
    const { user } = await createTestUser()
    const laptop = await signedInCaller(user)
    const phone = await signedInCaller(user)
    await laptop.caller.auth.signOut()
    expect(await callerWithToken(phone.token).caller.auth.me()).toMatchObject({ user: { id: user.id } })
  })

  it('signing out without a session (or with a forged cookie) writes nothing and still clears the cookie', async () => {
    const { user } = await createTestUser()
    const { token } = await signedInCaller(user)
    const forged = `${token.split('.')[0]}.${'a'.repeat(32)}`
    const before = await countRows()

    for (const cookie of [undefined, `gatehouse_session=${forged}`, 'gatehouse_session=garbage']) {
      const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp(), cookie })
      await expect(caller.auth.signOut()).resolves.toEqual({ status: 'signed-out' })
      expect(getSetSessionCookie(responseHeaders)?.attributes.get('max-age')).toBe('0')
    }

    expect(await countRows()).toEqual(before)
    // Knowing a session id without its secret cannot end someone else's session.
    expect(await callerWithToken(token).caller.auth.me()).toMatchObject({ user: { id: user.id } })
  })
})
