/**
 * Server-only: password reset by emailed single-use link (SPEC §1; OWASP Forgot Password Cheat Sheet).
 *
 * Request: the same answer for every email, whether or not it has an account (user enumeration,
 * WSTG-IDNT-04); the link goes only to accounts that have a password and are enabled.
 * Reset: the link is consumed atomically with the password change, every session of the user is
 * revoked, and the user is NOT signed in: they sign in afterwards like anyone else, so a reset
 * link never stands in for a second factor (NIST 800-63B §6.1.2.3: recovery must not weaken MFA).
 */
import { and, eq, isNull } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { users, type User } from '../../../db/schema'
import { appError } from '../errors'
import { buildTokenLink, passwordResetMail } from '../mail/account-mail'
import { notifySecurityEvent } from '../mail/security-notifications'
import { sendMailInBackground } from '../mail/send-mail'
import type { RequestContext } from '../request-context'
import { getDomainSsoRule, isPasswordRefusedBySso, type DomainSsoRule } from '../sso/sso-policy'
import { getUserByEmail } from '../users/users'
import { consumeOneTimeToken, getUsableOneTimeToken, issueOneTimeToken, PASSWORD_RESET_TOKEN_TTL_SECONDS } from './one-time-tokens'
import { hashPassword } from './password'
import { checkPasswordPolicy } from './password-policy'
import { invalidateUserSessions } from './session'
import { accountSubject } from './sign-in'

/** The answer to every reset request, for known and unknown emails alike. */
export type PasswordResetRequestResult = { status: 'sent' }

/** The app page that reads the token and asks for the new password. */
export const RESET_PASSWORD_PATH = '/reset-password'

/**
 * Every reset request answers no sooner than this after it arrived. The real-account path does a
 * few more database writes than the unknown-email path (measured here: p50 4.8 ms vs 1.4 ms), a
 * gap a patient attacker could average out; padding both to one floor well above the real path's
 * cost makes the two indistinguishable (OWASP Forgot Password Cheat Sheet: consistent response
 * time). A human never notices a tenth of a second on this form.
 */
export const PASSWORD_RESET_REQUEST_MIN_RESPONSE_MS = 100

/** Resolves once `minMs` have passed since `startedAtMs` (a `performance.now()` reading). */
async function waitUntilElapsed(startedAtMs: number, minMs: number): Promise<void> {
  const remainingMs = minMs - (performance.now() - startedAtMs)
  if (remainingMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(remainingMs)))
}

/** Why an existing account gets no link (kept for the audit log, never told to the requester). */
function getResetRefusalReason(user: User, ssoRule?: DomainSsoRule): 'no_password' | 'disabled' | 'sso_enforced' | null {
  // Under SSO enforcement the IdP owns the credential; only the break-glass owner keeps a password.
  if (ssoRule && isPasswordRefusedBySso(ssoRule, user.id)) return 'sso_enforced'
  // SSO-only accounts have no password to reset: their IdP owns the credential.
  if (!user.passwordHash) return 'no_password'
  // A disabled account cannot sign in, so a link would only be noise in the mailbox.
  if (user.disabledAt) return 'disabled'
  return null
}

/**
 * Mails a reset link if the email belongs to an enabled password account; answers `sent` always,
 * after the same minimum time (see PASSWORD_RESET_REQUEST_MIN_RESPONSE_MS). SMTP delivery happens
 * in the background, so a slow relay cannot stretch the real-account path past the floor.
 * Rate-limited answers are not padded: they are the same for every email anyway.
 */
export async function requestPasswordReset(ctx: RequestContext, email: string): Promise<PasswordResetRequestResult> {
  await ctx.enforcePerIpRateLimit('passwordResetPerIp')
  // Keyed by the email hash, not the user id, so unknown emails exhaust their budget the same way.
  await ctx.enforceRateLimit('passwordResetPerAccount', accountSubject(email))
  const startedAtMs = performance.now()
  await issuePasswordResetIfEligible(ctx, email)
  await waitUntilElapsed(startedAtMs, PASSWORD_RESET_REQUEST_MIN_RESPONSE_MS)
  return { status: 'sent' }
}

async function issuePasswordResetIfEligible(ctx: RequestContext, email: string): Promise<void> {
  const user = await getUserByEmail(ctx.db, email)
  if (!user) return
  const refusalReason = getResetRefusalReason(user, await getDomainSsoRule(ctx.db, email))
  if (!refusalReason) {
    const token = await issueOneTimeToken(ctx.db, { userId: user.id, purpose: 'password_reset', email: user.email }, ctx.now)
    const link = buildTokenLink(ctx.env.appUrl, RESET_PASSWORD_PATH, token)
    await sendMailInBackground(ctx.db, passwordResetMail({ appName: appConfig.appName, to: user.email, link, ttlSeconds: PASSWORD_RESET_TOKEN_TTL_SECONDS }))
  }
  await ctx.audit('password.reset_requested', {
    subjectUserId: user.id,
    organizationId: user.organizationId,
    details: refusalReason ? { isLinkSent: false, reason: refusalReason } : { isLinkSent: true },
  })
}

/**
 * Sets a new password with a reset link's token. Order: read the token (no write) → check the
 * policy → hash (off the event loop, outside any transaction) → in one transaction consume the
 * token, set the hash and revoke every session. A refused password leaves the link usable.
 */
export async function resetPasswordWithToken(ctx: RequestContext, input: { token: string; password: string }): Promise<{ status: 'password-reset' }> {
  const usable = await getUsableOneTimeToken(ctx.db, input.token, 'password_reset', ctx.now)
  const user = usable?.user
  // The link proves control of the mailbox it was sent to; once the account's email is another,
  // the old mailbox proves nothing about this account.
  if (!usable || !user || user.email !== usable.email || getResetRefusalReason(user, await getDomainSsoRule(ctx.db, user.email))) throw appError('INVALID_TOKEN')

  const policy = checkPasswordPolicy(input.password, { hasMfa: user.mfaEnabledAt != null, email: user.email })
  if (!policy.isAcceptable) throw appError('PASSWORD_POLICY', policy.reason)
  const passwordHash = await hashPassword(input.password)

  const sessionsRevoked = await ctx.db.transaction(async (tx) => {
    if (!(await consumeOneTimeToken(tx, usable.tokenHash, ctx.now))) throw appError('INVALID_TOKEN')
    // Opening the link proved control of the mailbox: the email counts as verified from now on.
    // The email condition makes a concurrent email change roll the whole reset back.
    const [updated] = await tx
      .update(users)
      .set({ passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? ctx.now, updatedAt: ctx.now })
      .where(and(eq(users.id, user.id), eq(users.email, usable.email), isNull(users.disabledAt)))
    if (updated.affectedRows !== 1) throw appError('INVALID_TOKEN')
    // Whoever knew the old password (the reason for many resets) loses every session at once.
    return invalidateUserSessions(tx, user.id)
  })

  await ctx.audit('password.reset_completed', {
    actorUserId: user.id,
    subjectUserId: user.id,
    organizationId: user.organizationId,
    details: { sessionsRevoked, isEmailNewlyVerified: user.emailVerifiedAt === null },
  })
  await notifySecurityEvent(ctx, user, { kind: 'password-reset' })
  return { status: 'password-reset' }
}
