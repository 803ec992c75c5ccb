/**
 * Server-only: changing the password from account settings (current password + a recent
 * re-authentication, checked by the caller's guard).
 */
import { eq } from 'drizzle-orm'
import { users, type Session, type User } from '../../../db/schema'
import { auditOwnAction } from '../audit/request-audit'
import { notifySecurityEvent } from '../mail/security-notifications'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { deleteUnusedOneTimeTokens } from './one-time-tokens'
import { hashPassword, verifyPassword } from './password'
import { checkPasswordPolicy } from './password-policy'
import { recordLockoutFailure, requireUnlockedBudget } from './account-lockout'
import { invalidateUserSessions } from './session'
import { rotateSessionAndSetCookie } from './session-actions'

/**
 * Sets a new password. Every other session of the user is revoked (a thief's session dies with the
 * old password), unused reset links are voided, and this session gets a new token.
 */
export async function changePassword(
  ctx: RequestContext,
  auth: { user: User; session: Session },
  input: { currentPassword: string; newPassword: string },
): Promise<{ otherSessionsRevoked: number }> {
  const { user, session } = auth
  if (!user.passwordHash) throw appError('FORBIDDEN', 'This account signs in with single sign-on and has no password.')
  // The current-password check is a password oracle like sign-in: the same lockout bounds it, or a
  // stolen session could guess for the whole re-auth window (NIST 800-63B §5.2.2).
  const budget = await requireUnlockedBudget(ctx, user.id)
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    await recordLockoutFailure(ctx, budget, user)
    throw appError('INVALID_CREDENTIALS', 'Your current password is incorrect.')
  }
  const policy = checkPasswordPolicy(input.newPassword, { hasMfa: user.mfaEnabledAt !== null, email: user.email })
  if (!policy.isAcceptable) throw appError('PASSWORD_POLICY', policy.reason)

  await ctx.db.update(users).set({ passwordHash: await hashPassword(input.newPassword), updatedAt: ctx.now }).where(eq(users.id, user.id))
  const otherSessionsRevoked = await invalidateUserSessions(ctx.db, user.id, { exceptSessionId: session.id })
  // A reset link mailed before the change must not undo it.
  await deleteUnusedOneTimeTokens(ctx.db, user.id, 'password_reset')
  await rotateSessionAndSetCookie(ctx, session, { reauthenticatedAt: ctx.now })
  await auditOwnAction(ctx, user, 'password.changed', { otherSessionsRevoked })
  await notifySecurityEvent(ctx, user, { kind: 'password-changed' })
  return { otherSessionsRevoked }
}
