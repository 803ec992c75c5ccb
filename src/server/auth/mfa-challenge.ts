/**
 * Server-only: the second step of a sign-in — an "MFA pending" session proves its factor with a
 * TOTP code or a single-use recovery code (SPEC §5). The ladder (STYLE principle 7):
 * rate limit → second-factor cap → lockout → per-challenge budget → count the attempt → verify →
 * count the failure, or complete the sign-in.
 */
import appConfig from '../../../app.config'
import type { Session, User } from '../../../db/schema'
import { appError } from '../errors'
import { notifySecurityEvent } from '../mail/security-notifications'
import type { RequestContext } from '../request-context'
import { consumeRecoveryCode, verifyTotpCode } from './mfa'
import { recordLockoutFailure, releaseLockoutAttempt, requireLockoutAttempt } from './account-lockout'
import { noteSecondFactorFailure, refuseIfAuthenticatorLocked, reserveSecondFactorAttempt, type SecondFactor } from './mfa-failure-streak'
import { reserveMfaChallengeAttempt } from './session'
import { endSessionAndClearCookie } from './session-actions'
import { completeSignIn, type SignInResult } from './sign-in-completion'

type PendingSignIn = { user: User; session: Session }

type ChallengeOutcome = { ok: true } | { ok: false; reason: string }

const CHALLENGE_OVER_MESSAGE = 'Too many wrong codes. Sign in again.'

/**
 * Failed codes count three times: against this challenge (`mfa.maxAttemptsPerChallenge`, after
 * which the half-signed-in session is deleted and the password must be given again), against the
 * account lockout shared with passwords (this browser's budget: ADR 016), and in the account's
 * streak of consecutive second-factor failures, which no window forgets and which only a completed
 * sign-in ends (NIST SP 800-63B-4 §3.2.2). A correct code completes the sign-in on the same
 * session under a new token.
 */
async function runMfaChallenge(ctx: RequestContext, pending: PendingSignIn, factor: SecondFactor, verify: () => Promise<ChallengeOutcome>): Promise<SignInResult> {
  const { user, session } = pending
  const auditFields = { actorUserId: user.id, subjectUserId: user.id, organizationId: user.organizationId }
  await ctx.enforcePerIpRateLimit('mfaPerIp')
  // Before anything is written: past the cap a recovery code is the way in, and the refusal says so.
  await refuseIfAuthenticatorLocked(ctx.db, user.id, factor)
  // A success completes the sign-in, which forgets this budget: nothing to give back.
  const attempt = await requireLockoutAttempt(ctx, user.id)

  if (!(await reserveMfaChallengeAttempt(ctx.db, session.id, appConfig.mfa.maxAttemptsPerChallenge))) {
    // No code is checked, so the lockout attempt is given back.
    await releaseLockoutAttempt(ctx, attempt)
    // The challenge is over: drop the half-authenticated session so the next guess needs the password.
    await endSessionAndClearCookie(ctx, session.id)
    await ctx.audit('mfa.verify.failed', { ...auditFields, details: { factor, reason: 'challenge_attempts_exhausted' } })
    throw appError('UNAUTHENTICATED', CHALLENGE_OVER_MESSAGE)
  }

  const streakAttempt = await reserveSecondFactorAttempt(ctx.db, user.id, factor)
  const outcome = await verify()
  if (!outcome.ok) {
    await ctx.audit('mfa.verify.failed', { ...auditFields, details: { factor, reason: outcome.reason, attempt: session.mfaFailedAttempts + 1 } })
    await recordLockoutFailure(ctx, attempt, user)
    await noteSecondFactorFailure(ctx, user, streakAttempt)
    throw appError('INVALID_CODE', outcome.reason === 'replayed' ? 'That code was already used. Wait for the next one.' : undefined)
  }

  return completeSignIn(ctx, user, {
    authMethod: session.authMethod,
    provenWith: factor,
    ssoConnectionId: session.ssoConnectionId,
    mfaSatisfiedAt: ctx.now,
    mfaMethod: factor,
    auditDetails: { method: session.authMethod, mfa: factor, ...(session.ssoConnectionId ? { connectionId: session.ssoConnectionId } : {}) },
  })
}

/** Completes a pending sign-in with a TOTP code (each time step accepted once per user). */
export async function completeMfaChallengeWithTotp(ctx: RequestContext, pending: PendingSignIn, code: string): Promise<SignInResult> {
  return runMfaChallenge(ctx, pending, 'totp', async () => {
    const result = await verifyTotpCode(ctx.db, pending.user.id, code, ctx.now)
    return result.ok ? { ok: true } : { ok: false, reason: result.reason }
  })
}

/** Completes a pending sign-in with a single-use recovery code; says how many codes remain. */
export async function completeMfaChallengeWithRecoveryCode(ctx: RequestContext, pending: PendingSignIn, code: string): Promise<SignInResult & { remaining: number }> {
  const { user } = pending
  let remaining = 0
  const result = await runMfaChallenge(ctx, pending, 'recovery_code', async () => {
    const consumed = await consumeRecoveryCode(ctx.db, user.id, code, ctx.now)
    if (!consumed) return { ok: false, reason: 'invalid-code' }
    remaining = consumed.remaining
    // Recorded as soon as the code is spent, before the session work that could still fail.
    await ctx.audit('mfa.recovery_code.used', { actorUserId: user.id, subjectUserId: user.id, organizationId: user.organizationId, details: { remaining } })
    return { ok: true }
  })
  await notifySecurityEvent(ctx, user, { kind: 'recovery-code-used', remaining })
  return { ...result, remaining }
}
