/**
 * Server-only: the password sign-in ladder (STYLE principle 7):
 * rate limit → look up → whose lockout budget → lockout → verify (constant work for unknown emails)
 * → complete → audit. Every failure answers the same INVALID_CREDENTIALS, so the response never
 * says whether an email has an account (OWASP ASVS 6.3.8, WSTG-IDNT-04).
 */
import { sha256 } from '@oslojs/crypto/sha2'
import { encodeHexLowerCase } from '@oslojs/encoding'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { getDomainSsoRule, isPasswordRefusedBySso } from '../sso/sso-policy'
import { getUserByEmail } from '../users/users'
import { upgradePasswordHashIfWeak } from './password-upgrade'
import { verifyAgainstDummyHash, verifyPassword } from './password'
import { accountLockedError, getLockoutBudget, recordLockoutFailure, releaseLockoutAttempt, takeLockoutAttempt } from './account-lockout'
import { isAcceptableWithoutSecondFactor } from './password-policy'
import { completeSignIn, type SignInResult } from './sign-in-completion'

export type { SignInResult }

/** Rate-limit and lockout subject for an email: a hash, so raw addresses never sit in bucket keys. */
export function accountSubject(email: string): string {
  return `email:${encodeHexLowerCase(sha256(new TextEncoder().encode(email))).slice(0, 32)}`
}

/** Signs in with email + password; the email is already normalised by the input schema. */
export async function signInWithPassword(ctx: RequestContext, input: { email: string; password: string }): Promise<SignInResult> {
  await ctx.enforcePerIpRateLimit('signInPerIp')

  const user = await getUserByEmail(ctx.db, input.email)
  // Unknown emails get their own lockout subject so a locked answer cannot tell them apart.
  const budget = getLockoutBudget(ctx, user?.id ?? accountSubject(input.email))
  // This throttle counts attempts before any verification, so anyone's flood spends it: a known
  // device skips it and relies on its own lockout budget and the per-IP limit (ADR 016).
  if (budget.scope === 'untrusted_clients') await ctx.enforceRateLimit('signInPerAccount', accountSubject(input.email))
  const attempt = await takeLockoutAttempt(ctx, budget)
  if (!attempt.isAllowed) {
    // Same argon2 work whether the account exists, has a password (SSO-only users have none) or not.
    if (user?.passwordHash) await verifyPassword(user.passwordHash, input.password)
    else await verifyAgainstDummyHash(input.password)
    await ctx.audit('auth.sign_in.failed', { subjectUserId: user?.id, organizationId: user?.organizationId, details: { reason: 'locked', scope: attempt.budget.scope } })
    // 429 + Retry-After like every throttled answer (the API contract); unknown emails lock alike.
    throw accountLockedError(ctx, attempt.budget, attempt.retryAfterSeconds)
  }

  const isPasswordValid = user?.passwordHash ? await verifyPassword(user.passwordHash, input.password) : await verifyAgainstDummyHash(input.password)
  // Under SSO enforcement only the break-glass owner keeps a password; everyone else gets the
  // answer an unknown address gets, after the same argon2 work (no account oracle).
  if (isPasswordValid && isPasswordRefusedBySso(await getDomainSsoRule(ctx.db, input.email), user?.id ?? null)) {
    await ctx.audit('auth.sign_in.failed', { subjectUserId: user?.id, organizationId: user?.organizationId, details: { reason: 'sso_enforced' } })
    await recordLockoutFailure(ctx, attempt, user)
    throw appError('INVALID_CREDENTIALS')
  }
  if (!user || !isPasswordValid) {
    await ctx.audit('auth.sign_in.failed', { subjectUserId: user?.id, organizationId: user?.organizationId, details: { reason: user ? 'bad_password' : 'unknown_email' } })
    await recordLockoutFailure(ctx, attempt, user)
    throw appError('INVALID_CREDENTIALS')
  }
  // The right password: the attempt is given back (a pending MFA step keeps no trace of it).
  await releaseLockoutAttempt(ctx, attempt)
  if (user.disabledAt) {
    // Only someone who knows the password learns the account is disabled, after the same argon2
    // work as any other answer: telling them saves a support call and reveals nothing new.
    await ctx.audit('auth.sign_in.failed', { subjectUserId: user.id, organizationId: user.organizationId, details: { reason: 'disabled' } })
    throw appError('ACCOUNT_DISABLED')
  }

  await upgradePasswordHashIfWeak(ctx, user, input.password)
  // The only moment the server holds the plaintext. A password allowed only beside a second factor
  // (8 characters) no longer has one — the user turned MFA off before that was refused, an admin
  // reset it, or the policy grew stricter — so it may not open the account alone (NIST SP
  // 800-63B-4 §3.1.1.2: 15 characters for a single-factor password): the session is sent to
  // enrollment and reaches nothing else (ADR 018). A user with a factor proves it next anyway.
  const passwordNeedsSecondFactor = user.mfaEnabledAt === null && !isAcceptableWithoutSecondFactor(input.password, user.email)
  return completeSignIn(ctx, user, {
    authMethod: 'password',
    provenWith: 'password',
    passwordNeedsSecondFactor,
    auditDetails: passwordNeedsSecondFactor ? { method: 'password', mfaEnrollmentReason: 'password_needs_second_factor' } : { method: 'password' },
  })
}
