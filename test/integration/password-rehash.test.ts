/**
 * Rehash on sign-in (OWASP Password Storage Cheat Sheet, "upgrading the work factor"; issue 11
 * item 5). A hash stored with weaker argon2 parameters than `password.ts` sets today — an account
 * from before a parameter change — is replaced in the request that just proved the password, and
 * only then: a wrong password, or a hash that is already current, changes nothing.
 */
import { hash } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import { ARGON2_OPTIONS, needsRehash, verifyPassword } from '../../src/server/auth/password'
import { callerFor } from '../support/caller'
import { createTestUser, nextTestIp, sql } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

/** argon2id with a quarter of the memory and one pass: what an older deployment may have stored. */
function weakHash(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2_OPTIONS.algorithm, memoryCost: 4096, timeCost: 1, parallelism: 1, outputLen: 32 })
}

async function storedHash(userId: string): Promise<string> {
  const [row] = await sql('SELECT password_hash AS hash FROM users WHERE id = ?', [userId])
  return row!.hash as string
}

async function rehashEvents(userId: string): Promise<unknown[]> {
  const rows = await sql("SELECT details FROM audit_events WHERE type = 'password.rehashed' AND subject_user_id = ?", [userId])
  return rows.map((row) => (typeof row.details === 'string' ? JSON.parse(row.details) : row.details))
}

describe('rehash on sign-in', () => {
  it('a weaker stored hash is replaced by one with the current parameters, audited without details', async () => {
    const { user, password } = await createTestUser()
    const weak = await weakHash(password)
    await sql('UPDATE users SET password_hash = ? WHERE id = ?', [weak, user.id])
    expect(needsRehash(weak)).toBe(true)

    expect(await callerFor({ ip: nextTestIp() }).auth.signIn({ email: user.email, password })).toEqual({ status: 'signed-in' })
    const upgraded = await storedHash(user.id)
    expect(upgraded).not.toBe(weak)
    expect(upgraded).toContain(`m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}`)
    expect(needsRehash(upgraded)).toBe(false)
    expect(await verifyPassword(upgraded, password)).toBe(true)
    expect(await rehashEvents(user.id)).toEqual([{}])

    // Already current: the next sign-in leaves it alone.
    await callerFor({ ip: nextTestIp() }).auth.signIn({ email: user.email, password })
    expect(await storedHash(user.id)).toBe(upgraded)
    expect(await rehashEvents(user.id)).toHaveLength(1)
  })

  it('a wrong password never triggers a rehash (nothing is written but the failure)', async () => {
    const { user, password } = await createTestUser()
    const weak = await weakHash(password)
    await sql('UPDATE users SET password_hash = ? WHERE id = ?', [weak, user.id])
    await expectAppError(callerFor({ ip: nextTestIp() }).auth.signIn({ email: user.email, password: 'not the password at all' }), 'INVALID_CREDENTIALS')
    expect(await storedHash(user.id)).toBe(weak)
    expect(await rehashEvents(user.id)).toHaveLength(0)
  })
})
