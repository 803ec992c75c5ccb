/**
 * Server-only: the organization admin console. Every query is scoped to the admin's own
 * organization (an admin of org A can neither see nor touch org B — BOLA / OWASP API1).
 */
import { and, asc, eq, inArray, max, sql } from 'drizzle-orm'
import appConfig from '../../../../app.config'
import { z } from 'zod'
import { ssoIdentities, users } from '../../../../db/schema'
import { AUDIT_EVENT_TYPES } from '../../audit/audit-event-types'
import { listAuditEvents } from '../../audit/audit-log'
import { disableTotp } from '../../auth/mfa'
import { invalidateUserSessions } from '../../auth/session'
import { appError } from '../../errors'
import { notifySecurityEvent } from '../../mail/security-notifications'
import { getMemberActionRefusal, getRoleChangeRefusal, type MemberActionRefusal } from '../../../lib/member-permissions'
import { refuseIfBreakGlassWeakened } from '../../sso/sso-policy'
import { adminProcedure, adminSensitiveProcedure, createTRPCRouter } from '../init'
import { idInputSchema } from '../inputs'
import type { TRPCContext } from '../init'

/** Throws FORBIDDEN with the policy's own sentence when the rule says no. */
function enforceMemberPolicy(refusal: MemberActionRefusal | null): void {
  if (refusal) throw appError('FORBIDDEN', refusal.message)
}

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
      const member = await requireOrganizationMember(ctx, ctx.user.organizationId, input.userId)
      // An admin must not be able to lock an owner out of their own sessions (vertical privilege abuse).
      enforceMemberPolicy(getMemberActionRefusal(ctx.user, member, 'revokeSessions'))
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
        const member = await requireOrganizationMember(ctx, ctx.user.organizationId, input.userId)
        enforceMemberPolicy(getMemberActionRefusal(ctx.user, member, 'resetMfa'))
        await refuseIfBreakGlassWeakened(ctx.db, ctx.user.organizationId, member.id)
        const wasEnabled = await disableTotp(ctx.db, member.id, ctx.now)
        if (!wasEnabled) return { wasEnabled, sessionsRevoked: 0 }
        const sessionsRevoked = await invalidateUserSessions(ctx.db, member.id)
        await ctx.audit('mfa.reset_by_admin', { actorUserId: ctx.user.id, subjectUserId: member.id, organizationId: ctx.user.organizationId, details: { sessionsRevoked } })
        await notifySecurityEvent(ctx, member, { kind: 'mfa-reset-by-admin' })
        return { wasEnabled, sessionsRevoked }
      }),

    /**
     * Changes a member's role (sensitive: recent re-auth). No one changes their own role, touches
     * someone above them, or grants more than they hold (vertical privilege escalation). The role is
     * read from the database on every request, so the change applies to the member's next call.
     */
    setRole: adminSensitiveProcedure
      .input(z.strictObject({ userId: idInputSchema, role: z.enum(appConfig.roles) }))
      .mutation(async ({ ctx, input }) => {
        const member = await requireOrganizationMember(ctx, ctx.user.organizationId, input.userId)
        enforceMemberPolicy(getRoleChangeRefusal(ctx.user, member, input.role))
        if (member.role === input.role) return { role: member.role }
        if (input.role !== 'owner') await refuseIfBreakGlassWeakened(ctx.db, ctx.user.organizationId, member.id)
        await ctx.db.update(users).set({ role: input.role, updatedAt: ctx.now }).where(eq(users.id, member.id))
        await ctx.audit('user.role_changed', { actorUserId: ctx.user.id, subjectUserId: member.id, organizationId: ctx.user.organizationId, details: { from: member.role, to: input.role } })
        return { role: input.role }
      }),

    /**
     * Disables (or re-enables) a member. Disabling revokes every session at once, and sign-in,
     * session validation and password reset all refuse a disabled account.
     */
    setDisabled: adminSensitiveProcedure
      .input(z.strictObject({ userId: idInputSchema, isDisabled: z.boolean() }))
      .mutation(async ({ ctx, input }) => {
        const member = await requireOrganizationMember(ctx, ctx.user.organizationId, input.userId)
        enforceMemberPolicy(getMemberActionRefusal(ctx.user, member, 'setDisabled'))
        if (input.isDisabled) await refuseIfBreakGlassWeakened(ctx.db, ctx.user.organizationId, member.id)
        if ((member.disabledAt !== null) === input.isDisabled) return { isDisabled: input.isDisabled, sessionsRevoked: 0 }
        await ctx.db.update(users).set({ disabledAt: input.isDisabled ? ctx.now : null, updatedAt: ctx.now }).where(eq(users.id, member.id))
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
