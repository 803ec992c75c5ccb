/**
 * Server-only: the organization admin console. Every query is scoped to the admin's own
 * organization (an admin of org A can neither see nor touch org B — BOLA / OWASP API1).
 */
import { and, asc, eq } from 'drizzle-orm'
import { z } from 'zod'
import { users } from '../../../../db/schema'
import { invalidateUserSessions } from '../../auth/session'
import { appError } from '../../errors'
import { auditFromContext } from '../audit'
import { createTRPCRouter, roleProcedure } from '../init'
import { idInputSchema } from '../inputs'
import type { TRPCContext } from '../context'

const adminProcedure = roleProcedure('admin')

/** The member of the admin's organization with this id, or a NOT_FOUND (never FORBIDDEN: no existence oracle). */
async function requireOrganizationMember(ctx: Pick<TRPCContext, 'db'>, organizationId: string | null, userId: string) {
  if (!organizationId) throw appError('NOT_FOUND')
  const [member] = await ctx.db
    .select()
    .from(users)
    .where(and(eq(users.id, userId), eq(users.organizationId, organizationId)))
    .limit(1)
  if (!member) throw appError('NOT_FOUND')
  return member
}

export const adminRouter = createTRPCRouter({
  users: createTRPCRouter({
    /** The admin's organization's users. */
    list: adminProcedure.query(async ({ ctx }) => {
      if (!ctx.user.organizationId) return []
      const rows = await ctx.db
        .select({
          id: users.id,
          email: users.email,
          name: users.name,
          role: users.role,
          disabledAt: users.disabledAt,
          mfaEnabledAt: users.mfaEnabledAt,
          createdAt: users.createdAt,
        })
        .from(users)
        .where(eq(users.organizationId, ctx.user.organizationId))
        .orderBy(asc(users.email))
        .limit(500)
      return rows.map((row) => ({
        id: row.id,
        email: row.email,
        name: row.name,
        role: row.role,
        isDisabled: row.disabledAt !== null,
        isMfaEnabled: row.mfaEnabledAt !== null,
        createdAt: row.createdAt.toISOString(),
      }))
    }),

    /** Revokes every session of a member of the admin's organization. */
    revokeSessions: adminProcedure.input(z.strictObject({ userId: idInputSchema })).mutation(async ({ ctx, input }) => {
      const member = await requireOrganizationMember(ctx, ctx.user.organizationId, input.userId)
      const revoked = await invalidateUserSessions(ctx.db, member.id, member.id === ctx.user.id ? { exceptSessionId: ctx.session.id } : {})
      await auditFromContext(ctx, 'session.revoked_all', { actorUserId: ctx.user.id, subjectUserId: member.id, organizationId: ctx.user.organizationId, details: { count: revoked, byAdmin: true } })
      return { revoked }
    }),
  }),
})
