/**
 * Server-only: the organization row lock that changes to who runs an organization take first.
 *
 * Threat: two owners demote (or disable) each other at the same moment. Each request checked its
 * own session's role before writing, both checks passed on the state before either write, and the
 * organization was left with no owner (a race, CWE-367 time-of-check/time-of-use). Every change
 * that can take away an owner or the break-glass owner — a member's role, disabled state or second
 * factor, the SSO policy — runs in one transaction that first locks the organization's row, then
 * re-reads what it decides on. Such changes serialise per organization, always in the same lock
 * order (organization, then user rows), so they never deadlock each other (InnoDB would abort one
 * of two transactions that lock the same rows in opposite orders).
 */
import { eq } from 'drizzle-orm'
import { organizations, type Organization } from '../../../db/schema'
import type { Database } from '../db/client'
import { appError } from '../errors'

/** A transaction handle (drizzle's), usable wherever a `Database` is. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0]

/**
 * Runs `work` in a READ COMMITTED transaction holding `SELECT … FOR UPDATE` on the organization's
 * row, and hands it the row as locked (its current SSO policy and break-glass owner). READ
 * COMMITTED: the organization lock gives the ordering, and REPEATABLE READ's gap locks on
 * `users.organization_id` would make sign-ups into the organization wait on (and deadlock with)
 * an unrelated change (the same reasoning as `inUserMfaTransaction`, auth/mfa.ts). NOT_FOUND when
 * the organization does not exist.
 */
export async function inOrganizationTransaction<T>(db: Database, organizationId: string, work: (tx: Transaction, organization: Organization) => Promise<T>): Promise<T> {
  return db.transaction(
    async (tx) => {
      const [organization] = await tx.select().from(organizations).where(eq(organizations.id, organizationId)).for('update')
      if (!organization) throw appError('NOT_FOUND')
      return work(tx, organization)
    },
    { isolationLevel: 'read committed' },
  )
}
