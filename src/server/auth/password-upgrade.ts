/**
 * Server-only: rehash on sign-in (OWASP Password Storage Cheat Sheet, "upgrading the work factor").
 * A hash made with weaker argon2 parameters than `password.ts` now sets is replaced in the request
 * that just proved the password, the only moment the plain password is at hand.
 */
import { and, eq } from 'drizzle-orm'
import { users, type User } from '../../../db/schema'
import type { RequestContext } from '../request-context'
import { hashPassword, needsRehash } from './password'

/** Rehashes `password` for `user` when the stored hash is weaker than configured; audited without details. */
export async function upgradePasswordHashIfWeak(ctx: RequestContext, user: Pick<User, 'id' | 'organizationId' | 'passwordHash'>, password: string): Promise<void> {
  if (!user.passwordHash || !needsRehash(user.passwordHash)) return
  const upgraded = await hashPassword(password)
  // Only over the hash that was verified: a password changed meanwhile is not overwritten.
  const [result] = await ctx.db
    .update(users)
    .set({ passwordHash: upgraded, updatedAt: ctx.now })
    .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)))
  if (result.affectedRows === 1) await ctx.audit('password.rehashed', { subjectUserId: user.id, organizationId: user.organizationId })
}
