/**
 * Server-only: email verification by emailed single-use link (SPEC §1).
 *
 * A link verifies the address it was sent to and nothing else: if the account's email changed
 * since, the old link does nothing (it would otherwise mark an unproven address as verified).
 */
import { and, eq } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { users, type User } from '../../../db/schema'
import { appError } from '../errors'
import { buildTokenLink, emailVerificationMail } from '../mail/account-mail'
import { sendMailInBackground } from '../mail/send-mail'
import type { RequestContext } from '../request-context'
import { consumeOneTimeToken, EMAIL_VERIFICATION_TOKEN_TTL_SECONDS, getUsableOneTimeToken, issueOneTimeToken } from './one-time-tokens'

/** The app page that reads the token and calls `auth.verifyEmail`. */
export const VERIFY_EMAIL_PATH = '/verify-email'

/** Issues a verification token for the user's current email and mails the link. */
export async function sendEmailVerification(ctx: RequestContext, user: Pick<User, 'id' | 'email' | 'name'>): Promise<void> {
  // `user.name` is deliberately left out of the mail (see account-mail.ts: content spoofing).
  const token = await issueOneTimeToken(ctx.db, { userId: user.id, purpose: 'email_verification', email: user.email }, ctx.now)
  const link = buildTokenLink(ctx.env.appUrl, VERIFY_EMAIL_PATH, token)
  await sendMailInBackground(ctx.db, emailVerificationMail({ appName: appConfig.appName, to: user.email, link, ttlSeconds: EMAIL_VERIFICATION_TOKEN_TTL_SECONDS }))
}

/** Marks the email verified with a link's token; INVALID_TOKEN for a bad, used, expired or outdated link. */
export async function verifyEmailWithToken(ctx: RequestContext, token: string): Promise<{ status: 'verified' }> {
  const usable = await getUsableOneTimeToken(ctx.db, token, 'email_verification', ctx.now)
  if (!usable || usable.user.email !== usable.email) throw appError('INVALID_TOKEN')
  const { user } = usable

  await ctx.db.transaction(async (tx) => {
    if (!(await consumeOneTimeToken(tx, usable.tokenHash, ctx.now))) throw appError('INVALID_TOKEN')
    // The email condition closes the race with a concurrent email change: then nothing is verified.
    const [updated] = await tx
      .update(users)
      .set({ emailVerifiedAt: user.emailVerifiedAt ?? ctx.now, updatedAt: ctx.now })
      .where(and(eq(users.id, user.id), eq(users.email, usable.email)))
    if (updated.affectedRows !== 1) throw appError('INVALID_TOKEN')
  })

  await ctx.audit('email.verified', {
    actorUserId: user.id,
    subjectUserId: user.id,
    organizationId: user.organizationId,
    details: { via: 'verification_link' },
  })
  return { status: 'verified' }
}

/** Sends a fresh verification link to a signed-in user whose email is not verified yet (rate-limited per account). */
export async function resendEmailVerification(
  ctx: RequestContext,
  user: Pick<User, 'id' | 'email' | 'name' | 'emailVerifiedAt'>,
): Promise<{ status: 'sent' | 'already-verified' }> {
  if (user.emailVerifiedAt) return { status: 'already-verified' }
  await ctx.enforceRateLimit('verificationResendPerAccount', user.id)
  await sendEmailVerification(ctx, user)
  return { status: 'sent' }
}
