/**
 * rotateSession (new token on privilege change, SPEC §2): the old token dies, history is kept,
 * the absolute lifetime is inherited — and a session revoked while a rotation is in flight is
 * not brought back under a new token.
 */
import { describe, expect, it } from 'vitest'
import { TRPCError } from '@trpc/server'
import { parseSessionToken, rotateSession } from '../../src/server/auth/session'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { callerWithToken, createTestUser, signedInCaller, sql } from '../support/auth-fixtures'

describe('rotateSession', () => {
  it('issues a new token, kills the old one, keeps history and never extends the absolute lifetime', async () => {
    const { user } = await createTestUser({ isMfaEnabled: true })
    const { token, session } = await signedInCaller(user)
    expect(await callerWithToken(token).caller.auth.me()).toEqual({ status: 'mfa-pending' })
    const at = now()

    const rotated = await rotateSession(getDb(), session, { mfaSatisfiedAt: at }, at)

    expect(rotated.token).not.toBe(token)
    expect(parseSessionToken(rotated.token)!.id).toBe(rotated.session.id)
    expect(await callerWithToken(token).caller.auth.me()).toBeNull()
    expect(await callerWithToken(rotated.token).caller.auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id } })
    const rows = await sql('SELECT id, created_at AS createdAt, absolute_expires_at AS absoluteExpiresAt, mfa_satisfied_at AS mfaSatisfiedAt FROM sessions WHERE user_id = ?', [user.id])
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ id: rotated.session.id, createdAt: session.createdAt, absoluteExpiresAt: session.absoluteExpiresAt, mfaSatisfiedAt: at })
  })

  it('a session revoked while a rotation is in flight is not resurrected under a new token', async () => {
    const { user } = await createTestUser()
    const { session } = await signedInCaller(user)
    // The request read its session, then an admin (or the user elsewhere) revoked it.
    await sql('DELETE FROM sessions WHERE id = ?', [session.id])

    const failure = await rotateSession(getDb(), session, { reauthenticatedAt: now() }, now()).catch((error: unknown) => error)

    expect(failure).toBeInstanceOf(TRPCError)
    expect((failure as TRPCError).code).toBe('UNAUTHORIZED')
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(0)
  })

  it('two concurrent rotations of one session leave exactly one live session', async () => {
    const { user } = await createTestUser()
    const { session } = await signedInCaller(user)
    const at = now()
    const results = await Promise.allSettled([rotateSession(getDb(), session, {}, at), rotateSession(getDb(), session, {}, at)])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(1)
  })
})
