/**
 * Attack (LOW, production-build security review): two owners of an organization demote or disable
 * each other at the same moment. Each request checked its session's role before either wrote —
 * a time-of-check/time-of-use race (CWE-367) — both succeeded, and the organization was left with
 * no owner; recovery needed the operator's CLI. The same shape: an admin's reset of an owner's
 * MFA, or an owner's SSO policy change, running on a role taken away a moment earlier.
 *
 * The defence (`src/server/users/member-changes.ts`, `organization-lock.ts`): every such change
 * locks the organization's row first, re-reads the actor and the member under that lock, and
 * refuses a change after which no enabled owner would remain (LAST_OWNER). Tested with real
 * concurrency (both calls in flight together, several rounds), with a lock held from another
 * connection to pin the interleaving, and on the operator's CLI. Every refused call wrote nothing,
 * audit log included.
 */
import type { PoolConnection } from 'mysql2/promise'
import { afterEach, describe, expect, it } from 'vitest'
import type { User } from '../../db/schema'
import { getDatabase } from '../../src/server/db/client'
import { createTestOrganization, createTestUser, readUser, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { enrollTotpForTests } from '../support/mfa-fixtures'
import { runCli } from '../support/sso-fixtures'
import { catchTrpcError, expectAppError } from '../support/trpc-errors'

const ROUNDS = 6

type OwnerCaller = Awaited<ReturnType<typeof signedInCaller>>['caller']

/** An organization with two owners, each holding a fresh (recently re-authenticated) session. */
async function organizationWithTwoOwners() {
  const organization = await createTestOrganization({ name: 'Two owners' })
  const { user: first } = await createTestUser({ role: 'owner', organizationId: organization.id })
  const { user: second } = await createTestUser({ role: 'owner', organizationId: organization.id })
  return { organization, first, second, firstCaller: (await signedInCaller(first)).caller, secondCaller: (await signedInCaller(second)).caller }
}

async function enabledOwnerCount(organizationId: string): Promise<number> {
  const [row] = await sql("SELECT COUNT(*) AS n FROM users WHERE organization_id = ? AND role = 'owner' AND disabled_at IS NULL", [organizationId])
  return Number(row!.n)
}

async function auditTypesOf(organizationId: string): Promise<string[]> {
  return (await sql('SELECT type FROM audit_events WHERE organization_id = ? ORDER BY id', [organizationId])).map((row) => String(row.type))
}

type Settled = { ok: true } | { ok: false; appCode: string | null }

/** Runs both calls at once and reports each outcome (a refusal by its app code). */
async function raceBoth(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[Settled, Settled]> {
  const settle = async (call: () => Promise<unknown>): Promise<Settled> => {
    const promise = call()
    try {
      await promise
      return { ok: true }
    } catch {
      return { ok: false, appCode: (await catchTrpcError(promise)).appCode }
    }
  }
  return Promise.all([settle(a), settle(b)])
}

describe('two owners acting on each other at the same moment', () => {
  it.each([
    ['demote each other', 'user.role_changed', (caller: OwnerCaller, other: User) => caller.admin.users.setRole({ userId: other.id, role: 'member' }), (caller: OwnerCaller, other: User) => caller.admin.users.setRole({ userId: other.id, role: 'member' })],
    ['disable each other', 'user.disabled', (caller: OwnerCaller, other: User) => caller.admin.users.setDisabled({ userId: other.id, isDisabled: true }), (caller: OwnerCaller, other: User) => caller.admin.users.setDisabled({ userId: other.id, isDisabled: true })],
    ['one demotes, the other disables', null, (caller: OwnerCaller, other: User) => caller.admin.users.setRole({ userId: other.id, role: 'admin' }), (caller: OwnerCaller, other: User) => caller.admin.users.setDisabled({ userId: other.id, isDisabled: true })],
  ] as const)('%s: exactly one wins, an enabled owner remains, and the loser wrote nothing (audit included)', async (_label, auditType, firstAction, secondAction) => {
    for (let round = 0; round < ROUNDS; round++) {
      const { organization, first, second, firstCaller, secondCaller } = await organizationWithTwoOwners()
      const outcomes = await raceBoth(() => firstAction(firstCaller, second), () => secondAction(secondCaller, first))

      expect(await enabledOwnerCount(organization.id), `round ${round}`).toBeGreaterThanOrEqual(1)
      expect(outcomes.filter((outcome) => outcome.ok), `round ${round}`).toHaveLength(1)
      const refused = outcomes.find((outcome) => !outcome.ok) as Extract<Settled, { ok: false }>
      // Whoever lost the lock finds themselves demoted or disabled (FORBIDDEN / UNAUTHENTICATED), or
      // the last owner (LAST_OWNER): never a success.
      expect(['FORBIDDEN', 'UNAUTHENTICATED', 'LAST_OWNER']).toContain(refused.appCode)
      // The refused call wrote nothing: its target (the winner) is untouched, sessions included,
      // and the log holds the winner's change alone.
      const winner = outcomes[0]!.ok ? first : second
      expect(await readUser(winner.id)).toMatchObject({ role: 'owner', disabledAt: null, updatedAt: winner.updatedAt })
      expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [winner.id])).toHaveLength(1)
      const changeEvents = (await auditTypesOf(organization.id)).filter((type) => type === 'user.role_changed' || type === 'user.disabled')
      expect(changeEvents, `round ${round}`).toHaveLength(1)
      if (auditType) expect(changeEvents).toEqual([auditType])
    }
  })
})

/**
 * Another connection holds the organization's row lock and, inside that transaction, demotes the
 * actor: the actor's request passes its guard on the still-committed role, then waits for the lock.
 * When the holder commits, the request must see the actor as they are now.
 */
describe('an owner demoted while their request is in flight', () => {
  let holder: PoolConnection | null = null

  afterEach(async () => {
    if (holder) {
      await holder.query('ROLLBACK').catch(() => undefined)
      holder.release()
      holder = null
    }
  })

  /** Locks the organization row and demotes `actor` in an open transaction on a separate connection. */
  async function demoteUnderHeldLock(organizationId: string, actor: User): Promise<PoolConnection> {
    const connection = await getDatabase().pool.getConnection()
    holder = connection
    await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED')
    await connection.query('START TRANSACTION')
    await connection.query('SELECT id FROM organizations WHERE id = ? FOR UPDATE', [organizationId])
    await connection.query("UPDATE users SET role = 'member' WHERE id = ?", [actor.id])
    return connection
  }

  /** Resolves once a request is blocked on the organization's row lock (its locking read shows in the process list). */
  async function untilARequestWaitsForTheOrganizationLock(): Promise<void> {
    for (let attempt = 0; attempt < 500; attempt++) {
      const waiting = await sql(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE '%from `organizations`%for update%'",
      )
      if (waiting.length > 0) return
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error('the request never waited for the organization lock')
  }

  it.each([
    ['resets the other owner’s MFA', (caller: OwnerCaller, other: User) => caller.admin.users.resetMfa({ userId: other.id })],
    ['revokes the other owner’s sessions', (caller: OwnerCaller, other: User) => caller.admin.users.revokeSessions({ userId: other.id })],
    ['demotes the other owner', (caller: OwnerCaller, other: User) => caller.admin.users.setRole({ userId: other.id, role: 'member' })],
    ['disables the other owner', (caller: OwnerCaller, other: User) => caller.admin.users.setDisabled({ userId: other.id, isDisabled: true })],
    // An owner-only decision: trusting the IdP's MFA weakens every member's sign-in.
    ['changes the SSO policy', (caller: OwnerCaller) => caller.organization.setSsoPolicy({ isEnforced: false, breakGlassUserId: null, mfaMode: 'trust_idp_mfa' })],
  ] as const)('%s: refused once the lock is released, and nothing of it is written', async (_label, action) => {
    const { organization, first, second, firstCaller } = await organizationWithTwoOwners()
    await enrollTotpForTests(second)
    const secondBefore = await readUser(second.id)
    const connection = await demoteUnderHeldLock(organization.id, first)

    const call = action(firstCaller, second)
    call.catch(() => undefined)
    // Without the lock the request does not wait: it completes on the role it was admitted with.
    const whatHappened = await Promise.race([call.then((result) => ({ completedWithoutWaiting: result }), () => 'refused without waiting'), untilARequestWaitsForTheOrganizationLock().then(() => 'waiting')])
    expect(whatHappened).toBe('waiting')
    await connection.query('COMMIT')

    await expectAppError(call, 'FORBIDDEN')
    expect(await readUser(second.id)).toEqual(secondBefore)
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [second.id])).toHaveLength(1)
    expect(await sql('SELECT id FROM totp_credentials WHERE user_id = ?', [second.id])).toHaveLength(1)
    expect(await auditTypesOf(organization.id)).toEqual([])
    expect((await sql('SELECT sso_mfa_mode FROM organizations WHERE id = ?', [organization.id]))[0]!.sso_mfa_mode).toBe('require_gatehouse_mfa')
  })
})

describe('the last enabled owner', () => {
  it('the operator cannot demote them either (LAST_OWNER, exit 2, nothing written); once a second owner is enabled, they can step down', async () => {
    const organization = await createTestOrganization({ name: 'One owner' })
    const { user: owner } = await createTestUser({ role: 'owner', organizationId: organization.id })
    // A disabled owner does not count: they cannot sign in to run the organization.
    const { user: disabledOwner } = await createTestUser({ role: 'owner', organizationId: organization.id, isDisabled: true })

    const before = await tableChecksums()
    const result = await runCli(['user:set-role', '--email', owner.email, '--role', 'admin'])
    expect(result).toMatchObject({ code: 2 })
    expect(result.stderr).toMatch(/--role: This would leave the organization without an owner who can sign in/)
    expect(await tableChecksums()).toEqual(before)

    // The operator restores the disabled owner; now the first one may step down.
    await sql('UPDATE users SET disabled_at = NULL WHERE id = ?', [disabledOwner.id])
    expect(await runCli(['user:set-role', '--email', owner.email, '--role', 'admin'])).toMatchObject({ code: 0, stdout: `${owner.email}: role owner → admin\n` })
    expect(await enabledOwnerCount(organization.id)).toBe(1)
  }, 60_000)
})
