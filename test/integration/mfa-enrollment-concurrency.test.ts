/**
 * Issue 11 item 9: concurrent MFA enrollment deadlocked. The enrollment transaction deleted the
 * user's pending factor (a range that is usually empty) and inserted a new one; under InnoDB's
 * REPEATABLE READ the empty-range DELETE takes a gap lock, and two users whose rows share a gap
 * each waited for the other's insert-intention lock: ~7% of `mfa.beginEnrollment` calls failed
 * with a deadlock (500). The same shape existed in recovery-code regeneration. Attack/fault:
 * many users start enrollment (and regenerate codes) at the same moment; every call must succeed.
 */
import { describe, expect, it } from 'vitest'
import { beginTotpEnrollment, regenerateRecoveryCodes } from '../../src/server/auth/mfa'
import { getDb } from '../../src/server/db/client'
import { createTestUser, nextTestIp, signedInCaller, sql } from '../support/auth-fixtures'
import { createMfaTestUser } from '../support/mfa-fixtures'

const USERS = 24
const ROUNDS = 3

describe('concurrent MFA enrollment (InnoDB gap-lock deadlock)', () => {
  it('many different users beginning enrollment at once through mfa.beginEnrollment: zero failures, one pending factor each', async () => {
    const callers = await Promise.all(
      Array.from({ length: USERS }, async () => {
        const { user } = await createTestUser()
        return { user, ...(await signedInCaller(user, { ip: nextTestIp() })) }
      }),
    )
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.allSettled(callers.map(({ caller }) => caller.mfa.beginEnrollment()))
      const failures = results.filter((result) => result.status === 'rejected')
      expect(failures.map((failure) => String((failure as PromiseRejectedResult).reason))).toEqual([])
    }
    for (const { user } of callers) {
      const rows = await sql('SELECT confirmed_at FROM totp_credentials WHERE user_id = ?', [user.id])
      expect(rows).toHaveLength(1)
      expect(rows[0]!.confirmed_at).toBeNull()
    }
  })

  it('the store itself under a burst (begin twice per user, interleaved): zero deadlocks', async () => {
    const users = await Promise.all(Array.from({ length: USERS }, async () => (await createTestUser()).user))
    const results = await Promise.allSettled(users.flatMap((user) => [beginTotpEnrollment(getDb(), user), beginTotpEnrollment(getDb(), user)]))
    expect(results.filter((result) => result.status === 'rejected').map((failure) => String((failure as PromiseRejectedResult).reason))).toEqual([])
    for (const user of users) expect(await sql('SELECT id FROM totp_credentials WHERE user_id = ?', [user.id])).toHaveLength(1)
  })

  it('many users regenerating recovery codes at once: zero deadlocks, ten codes each', async () => {
    const users = await Promise.all(Array.from({ length: USERS }, async () => (await createMfaTestUser()).user))
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.allSettled(users.map((user) => regenerateRecoveryCodes(getDb(), user.id)))
      expect(results.filter((result) => result.status === 'rejected').map((failure) => String((failure as PromiseRejectedResult).reason))).toEqual([])
    }
    for (const user of users) expect(await sql('SELECT id FROM recovery_codes WHERE user_id = ? AND used_at IS NULL', [user.id])).toHaveLength(10)
  })
})
