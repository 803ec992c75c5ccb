/** Server-only: the user's own sessions (list, revoke one, revoke all others). */
import { z } from 'zod'
import { auditOwnAction } from '../../audit/request-audit'
import { invalidateUserSession, invalidateUserSessions, listUserSessions } from '../../auth/session'
import { deleteSessionCookie } from '../../auth/session-cookie'
import { appError } from '../../errors'
import { createTRPCRouter, protectedProcedure } from '../init'
import { idInputSchema } from '../inputs'

export const sessionsRouter = createTRPCRouter({
  /** Live sessions, newest first; `isCurrent` marks this device. */
  list: protectedProcedure.query(async ({ ctx }) => {
    const rows = await listUserSessions(ctx.db, ctx.user.id, ctx.now)
    return rows.map((row) => ({
      id: row.id,
      isCurrent: row.id === ctx.session.id,
      createdAt: row.createdAt.toISOString(),
      lastSeenAt: row.lastSeenAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      ip: row.ip,
      userAgent: row.userAgent,
      authMethod: row.authMethod,
      isMfaSatisfied: row.mfaSatisfiedAt !== null,
    }))
  }),

  /** Revokes one of the caller's sessions (ids of other users' sessions are simply not found). */
  revoke: protectedProcedure.input(z.strictObject({ id: idInputSchema })).mutation(async ({ ctx, input }) => {
    const wasRevoked = await invalidateUserSession(ctx.db, ctx.user.id, input.id)
    if (!wasRevoked) throw appError('NOT_FOUND')
    const isCurrent = input.id === ctx.session.id
    if (isCurrent) {
      deleteSessionCookie(ctx.cookies, ctx.env.appUrl)
      ctx.resetAuth()
    }
    await auditOwnAction(ctx, ctx.user, 'session.revoked', { sessionId: input.id })
    return { isCurrent }
  }),

  /** Revokes every other session of the caller ("sign out everywhere else"). */
  revokeOthers: protectedProcedure.mutation(async ({ ctx }) => {
    const revoked = await invalidateUserSessions(ctx.db, ctx.user.id, { exceptSessionId: ctx.session.id })
    await auditOwnAction(ctx, ctx.user, 'session.revoked_all', { count: revoked })
    return { revoked }
  }),
})
