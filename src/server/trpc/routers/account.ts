/** Server-only: the signed-in user's own account. */
import { z } from 'zod'
import { eq } from 'drizzle-orm'
import { users } from '../../../../db/schema'
import { deleteUnusedOneTimeTokens } from '../../auth/one-time-tokens'
import { checkPasswordPolicy } from '../../auth/password-policy'
import { hashPassword, verifyPassword } from '../../auth/password'
import { enforceAccountNotLocked, recordAccountFailure } from '../../auth/rate-limit'
import { invalidateUserSessions } from '../../auth/session'
import { appError } from '../../errors'
import { auditOwnAction } from '../audit'
import { rotateSessionAndSetCookie } from '../session-actions'
import { createTRPCRouter, sensitiveProcedure } from '../init'
import { passwordInputSchema } from '../inputs'

export const accountRouter = createTRPCRouter({
  /**
   * Changes the password: needs the current one and a recent re-authentication. Every other
   * session of the user is revoked (a thief's session dies with the old password) and this one
   * gets a new token.
   */
  changePassword: sensitiveProcedure
    .input(z.strictObject({ currentPassword: passwordInputSchema, newPassword: passwordInputSchema }))
    .mutation(async ({ ctx, input }) => {
      if (!ctx.user.passwordHash) throw appError('FORBIDDEN', 'This account signs in with single sign-on and has no password.')
      // The current-password check is a password oracle like sign-in: the same lockout bounds it,
      // or a stolen session could guess for the whole re-auth window (NIST 800-63B §5.2.2).
      await enforceAccountNotLocked(ctx, ctx.user.id)
      if (!(await verifyPassword(ctx.user.passwordHash, input.currentPassword))) {
        await recordAccountFailure(ctx.db, ctx.user.id, ctx.now)
        throw appError('INVALID_CREDENTIALS', 'Your current password is incorrect.')
      }
      const policy = checkPasswordPolicy(input.newPassword, { hasMfa: ctx.user.mfaEnabledAt !== null, email: ctx.user.email })
      if (!policy.isAcceptable) throw appError('PASSWORD_POLICY', policy.reason)

      await ctx.db.update(users).set({ passwordHash: await hashPassword(input.newPassword), updatedAt: ctx.now }).where(eq(users.id, ctx.user.id))
      const revoked = await invalidateUserSessions(ctx.db, ctx.user.id, { exceptSessionId: ctx.session.id })
      // A reset link mailed before the change must not undo it.
      await deleteUnusedOneTimeTokens(ctx.db, ctx.user.id, 'password_reset')
      await rotateSessionAndSetCookie(ctx, ctx.session, { reauthenticatedAt: ctx.now })
      await auditOwnAction(ctx, 'password.changed', { otherSessionsRevoked: revoked })
      return { otherSessionsRevoked: revoked }
    }),
})
