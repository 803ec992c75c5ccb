/** Server-only: the numbers on the dashboard, for the guarded `getDashboardSummary` server function. */
import { and, count, eq } from 'drizzle-orm'
import { sessions } from '../../../db/schema'
import { liveSessionCondition } from '../auth/session'
import type { ServerFnSession } from './guards'

export type DashboardSummary = {
  /** Live (not idle-expired, not past absolute expiry) sessions of the viewer, this one included. */
  activeSessionCount: number
  /** The viewer's organization, or null for a user without one. */
  organizationName: string | null
}

/** Reads the viewer's dashboard summary; the caller has already passed `requireServerFnSession`. */
export async function loadDashboardSummary({ requestContext, user, organization }: ServerFnSession): Promise<DashboardSummary> {
  const { db, now } = requestContext
  const [row] = await db
    .select({ activeSessionCount: count() })
    .from(sessions)
    .where(and(eq(sessions.userId, user.id), liveSessionCondition(now)))
  return { activeSessionCount: row?.activeSessionCount ?? 0, organizationName: organization?.name ?? null }
}
