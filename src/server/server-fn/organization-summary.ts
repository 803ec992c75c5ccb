/** Server-only: the admin console's overview numbers, for the role-guarded `getOrganizationSummary` server function. */
import { and, count, eq, isNotNull } from 'drizzle-orm'
import { sessions, users } from '../../../db/schema'
import { liveSessionCondition } from '../auth/session'
import type { ServerFnSession } from './guards'

export type OrganizationSummary = {
  memberCount: number
  /** Members with a confirmed second factor. */
  mfaEnabledCount: number
  /** Live sessions of the organization's members, on every device. */
  activeSessionCount: number
}

/** Reads the admin's own organization's numbers; the caller has passed `requireRoleMiddleware('admin')`. */
export async function loadOrganizationSummary({ requestContext, organization }: ServerFnSession): Promise<OrganizationSummary> {
  if (!organization) return { memberCount: 0, mfaEnabledCount: 0, activeSessionCount: 0 }
  const { db, now } = requestContext
  const inOrganization = eq(users.organizationId, organization.id)
  const [[members], [enrolled], [live]] = await Promise.all([
    db.select({ value: count() }).from(users).where(inOrganization),
    db.select({ value: count() }).from(users).where(and(inOrganization, isNotNull(users.mfaEnabledAt))),
    db
      .select({ value: count() })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(inOrganization, liveSessionCondition(now))),
  ])
  return { memberCount: members?.value ?? 0, mfaEnabledCount: enrolled?.value ?? 0, activeSessionCount: live?.value ?? 0 }
}
