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
import { requireCurrentPassword } from './current-password'
import { hashPassword } from './password'
import { checkPasswordPolicy } from './password-policy'
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
  await requireCurrentPassword(ctx, user, input.currentPassword)
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
