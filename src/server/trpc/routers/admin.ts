/**
 * Server-only: the organization admin console. Every query is scoped to the admin's own
 * organization (an admin of org A can neither see nor touch org B — BOLA / OWASP API1).
 */
import { asc, eq, inArray, max, sql } from 'drizzle-orm'
import appConfig from '../../../../app.config'
import { z } from 'zod'
import { ssoIdentities, users } from '../../../../db/schema'
import { AUDIT_EVENT_TYPES } from '../../audit/audit-event-types'
import { listAuditEvents } from '../../audit/audit-log'
import { invalidateUserSessions } from '../../auth/session'
import { appError } from '../../errors'
import { notifySecurityEvent } from '../../mail/security-notifications'
import { authorizeMemberSessionRevocation, resetMemberMfa, setMemberDisabled, setMemberRole } from '../../users/member-changes'
import { adminProcedure, adminSensitiveProcedure, createTRPCRouter } from '../init'
import { idInputSchema } from '../inputs'
import type { TRPCContext } from '../init'

/**
 * The member `userId` of the caller's organization, changed by the caller. The rules (and the
 * re-read of the caller's role under the organization lock) live in `users/member-changes.ts`.
 * No organization: NOT_FOUND, as for a member of another one (no existence oracle).
 */
function memberChangeTarget(ctx: Pick<TRPCContext, 'now'> & { user: { id: string; organizationId: string | null } }, userId: string) {
  if (!ctx.user.organizationId) throw appError('NOT_FOUND')
  return { organizationId: ctx.user.organizationId, memberId: userId, actor: { kind: 'member' as const, userId: ctx.user.id }, now: ctx.now }
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
          // A flag, not the hash: password hashes never leave the users table for a listing.
          hasPassword: sql<number>`${users.passwordHash} IS NOT NULL`,
          createdAt: users.createdAt,
        })
        .from(users)
        .where(eq(users.organizationId, ctx.user.organizationId))
        .orderBy(asc(users.email))
        .limit(500)
      // Last SSO sign-in per member, in one grouped query (no N+1).
      const ssoRows = rows.length
        ? await ctx.db
            .select({ userId: ssoIdentities.userId, lastSignInAt: max(ssoIdentities.lastSignInAt) })
            .from(ssoIdentities)
            .where(inArray(ssoIdentities.userId, rows.map((row) => row.id)))
            .groupBy(ssoIdentities.userId)
        : []
      const lastSsoSignInByUser = new Map(ssoRows.map((row) => [row.userId, row.lastSignInAt]))
      return rows.map((row) => ({
        id: row.id,
        email: row.email,
        name: row.name,
        role: row.role,
        isDisabled: row.disabledAt !== null,
        isMfaEnabled: row.mfaEnabledAt !== null,
        /** How the member signs in: a password, single sign-on, or both (an account linked to the IdP). */
        signInMethods: [...(Number(row.hasPassword) === 1 ? (['password'] as const) : []), ...(lastSsoSignInByUser.has(row.id) ? (['sso'] as const) : [])],
        lastSsoSignInAt: lastSsoSignInByUser.get(row.id)?.toISOString() ?? null,
        createdAt: row.createdAt.toISOString(),
      }))
    }),

    /** Revokes every session of a member of the admin's organization. */
    revokeSessions: adminProcedure.input(z.strictObject({ userId: idInputSchema })).mutation(async ({ ctx, input }) => {
      // An admin must not be able to lock an owner out of their own sessions (vertical privilege abuse).
      const member = await authorizeMemberSessionRevocation(ctx.db, memberChangeTarget(ctx, input.userId))
      const revoked = await invalidateUserSessions(ctx.db, member.id, member.id === ctx.user.id ? { exceptSessionId: ctx.session.id } : {})
      await ctx.audit('session.revoked_all', { actorUserId: ctx.user.id, subjectUserId: member.id, organizationId: ctx.user.organizationId, details: { count: revoked, byAdmin: true } })
      return { revoked }
    }),

    /**
     * Resets a member's MFA (the lost-phone path): factor and recovery codes deleted, every session
     * of theirs revoked, so their next sign-in is password-only (or forced enrollment when the
     * policy requires MFA). Re-authentication required. Not on oneself (that is `mfa.disable`, which
     * honours the policy) and not on a higher role: an admin cannot weaken an owner's account.
     */
    resetMfa: adminSensitiveProcedure
      .input(z.strictObject({ userId: idInputSchema }))
      .mutation(async ({ ctx, input }) => {
        const { member, isChanged: wasEnabled } = await resetMemberMfa(ctx.db, memberChangeTarget(ctx, input.userId))
        if (!wasEnabled) return { wasEnabled, sessionsRevoked: 0 }
        const sessionsRevoked = await invalidateUserSessions(ctx.db, member.id)
        await ctx.audit('mfa.reset_by_admin', { actorUserId: ctx.user.id, subjectUserId: member.id, organizationId: ctx.user.organizationId, details: { sessionsRevoked } })
        await notifySecurityEvent(ctx, member, { kind: 'mfa-reset-by-admin' })
        return { wasEnabled, sessionsRevoked }
      }),

    /**
     * Changes a member's role (sensitive: recent re-auth). No one changes their own role, touches
     * someone above them, or grants more than they hold (vertical privilege escalation), and the
     * organization keeps an enabled owner (LAST_OWNER). The role is read from the database on every
     * request, so the change applies to the member's next call.
     */
    setRole: adminSensitiveProcedure
      .input(z.strictObject({ userId: idInputSchema, role: z.enum(appConfig.roles) }))
      .mutation(async ({ ctx, input }) => {
        const { member, isChanged } = await setMemberRole(ctx.db, memberChangeTarget(ctx, input.userId), input.role)
        if (!isChanged) return { role: member.role }
        await ctx.audit('user.role_changed', { actorUserId: ctx.user.id, subjectUserId: member.id, organizationId: ctx.user.organizationId, details: { from: member.role, to: input.role } })
        return { role: input.role }
      }),

    /**
     * Disables (or re-enables) a member. Disabling revokes every session at once, and sign-in,
     * session validation and password reset all refuse a disabled account. The last enabled owner
     * cannot be disabled (LAST_OWNER).
     */
    setDisabled: adminSensitiveProcedure
      .input(z.strictObject({ userId: idInputSchema, isDisabled: z.boolean() }))
      .mutation(async ({ ctx, input }) => {
        const { member, isChanged } = await setMemberDisabled(ctx.db, memberChangeTarget(ctx, input.userId), input.isDisabled)
        if (!isChanged) return { isDisabled: input.isDisabled, sessionsRevoked: 0 }
        const sessionsRevoked = input.isDisabled ? await invalidateUserSessions(ctx.db, member.id) : 0
        await ctx.audit(input.isDisabled ? 'user.disabled' : 'user.enabled', {
          actorUserId: ctx.user.id,
          subjectUserId: member.id,
          organizationId: ctx.user.organizationId,
          details: { sessionsRevoked },
        })
        await notifySecurityEvent(ctx, member, { kind: input.isDisabled ? 'account-disabled-by-admin' : 'account-enabled-by-admin' })
        return { isDisabled: input.isDisabled, sessionsRevoked }
      }),
  }),
  audit: createTRPCRouter({
    /** The admin's organization's audit trail, newest first, keyset-paginated. */
    list: adminProcedure
      .input(
        z.strictObject({
          limit: z.number().int().min(1).max(100).default(50),
          beforeId: z.number().int().positive().nullable().default(null),
          type: z.enum(AUDIT_EVENT_TYPES).nullish(),
          userId: idInputSchema.nullish(),
          from: z.iso.datetime().nullish(),
          to: z.iso.datetime().nullish(),
        }),
      )
      .query(async ({ ctx, input }) => {
        if (!ctx.user.organizationId) return { events: [], nextBeforeId: null }
        const page = await listAuditEvents(ctx.db, {
          organizationId: ctx.user.organizationId,
          limit: input.limit,
          beforeId: input.beforeId,
          type: input.type ?? null,
          userId: input.userId ?? null,
          from: input.from ? new Date(input.from) : null,
          to: input.to ? new Date(input.to) : null,
        })
        return { events: page.events.map((event) => ({ ...event, createdAt: event.createdAt.toISOString() })), nextBeforeId: page.nextBeforeId }
      }),
  }),
})
