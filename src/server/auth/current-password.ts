/**
 * Server-only: the current password, asked again inside a signed-in session before a change that
 * rests on it (setting a new one; turning the second factor off, after which it stands alone).
 */
import type { User } from '../../../db/schema'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { verifyPassword } from './password'
import { recordLockoutFailure, releaseLockoutAttempt, requireLockoutAttempt } from './account-lockout'

/**
 * Throws unless `password` is the user's current password. It is a password oracle like sign-in:
 * the same lockout bounds it, or a stolen session could guess for the whole re-auth window
 * (NIST 800-63B §5.2.2), and a wrong guess counts as a failure.
 */
export async function requireCurrentPassword(ctx: RequestContext, user: Pick<User, 'id' | 'passwordHash' | 'organizationId'>, password: string): Promise<void> {
  if (!user.passwordHash) throw appError('FORBIDDEN', 'This account signs in with single sign-on and has no password.')
  // This browser's budget (a known device's own, else the shared one: ADR 016).
  const attempt = await requireLockoutAttempt(ctx, user.id)
  if (!(await verifyPassword(user.passwordHash, password))) {
    await recordLockoutFailure(ctx, attempt, user)
    throw appError('INVALID_CREDENTIALS', 'Your current password is incorrect.')
  }
  await releaseLockoutAttempt(ctx, attempt)
}
