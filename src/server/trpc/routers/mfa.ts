/**
 * Server-only: TOTP multi-factor authentication (SPEC §5): enrollment, the sign-in challenge,
 * recovery codes and the step-up-protected management of the factor.
 *
 * The store (`auth/mfa.ts`) makes codes single-use; this router owns the ladder around it
 * (STYLE principle 7): rate limit → lockout → per-challenge budget → verify → count the failure or
 * rotate the session → audit.
 */
import { and, eq, lt, sql } from 'drizzle-orm'
import { z } from 'zod'
import appConfig from '../../../../app.config'
import { sessions, type Session, type User } from '../../../../db/schema'
import {
  beginTotpEnrollment,
  confirmTotpEnrollment,
  consumeRecoveryCode,
  disableTotp,
  getMfaStatus,
  regenerateRecoveryCodes,
  verifyTotpCode,
} from '../../auth/mfa'
import { isMfaRequiredByPolicy } from '../../auth/mfa-policy'
import { enforceAccountNotLocked, enforceRateLimit, recordAccountFailure, resetAccountFailures } from '../../auth/rate-limit'
import { invalidateSession, invalidateUserSessions } from '../../auth/session'
import { deleteSessionCookie } from '../../auth/session-cookie'
import { appError } from '../../errors'
import { auditFromContext, auditOwnAction } from '../audit'
import { rotateSessionAndSetCookie } from '../session-actions'
import type { TRPCContext } from '../context'
import { createTRPCRouter, mfaEnrollmentProcedure, mfaPendingProcedure, sensitiveProcedure } from '../init'
import { recoveryCodeInputSchema, totpCodeInputSchema } from '../inputs'

type ChallengeContext = TRPCContext & { session: Session; user: User }

type ChallengeOutcome = { ok: true; details: Record<string, unknown> } | { ok: false; reason: string }

const CHALLENGE_OVER_MESSAGE = 'Too many wrong codes. Sign in again.'

/**
 * Takes one attempt from the session's challenge budget: a single conditional UPDATE, so
 * concurrent guesses cannot overdraw it (a read-then-increment would let a burst of N parallel
 * requests all pass the check). False when the budget is spent (or the session is already gone).
 * A successful attempt rotates the session, and the new row starts at 0, so what the column keeps
 * counting is failures.
 */
async function reserveChallengeAttempt(ctx: ChallengeContext): Promise<{ isAllowed: boolean; attempt: number }> {
  const [result] = await ctx.db
    .update(sessions)
    .set({ mfaFailedAttempts: sql`${sessions.mfaFailedAttempts} + 1` })
    .where(and(eq(sessions.id, ctx.session.id), lt(sessions.mfaFailedAttempts, appConfig.mfa.maxAttemptsPerChallenge)))
  return { isAllowed: result.affectedRows === 1, attempt: ctx.session.mfaFailedAttempts + 1 }
}

/**
 * The sign-in challenge for an "MFA pending" session, shared by TOTP and recovery codes.
 * Failed codes count twice: against this challenge (`mfa.maxAttemptsPerChallenge`, after which the
 * half-signed-in session is deleted and the password must be given again) and against the account
 * lockout shared with passwords (NIST 800-63B §5.2.2: limit failed authentication attempts per
 * account, whatever the factor).
 */
async function completeMfaChallenge(ctx: ChallengeContext, factor: 'totp' | 'recovery_code', verify: () => Promise<ChallengeOutcome>) {
  const auditFields = { actorUserId: ctx.user.id, subjectUserId: ctx.user.id, organizationId: ctx.user.organizationId }
  await enforceRateLimit(ctx, 'mfaPerIp', ctx.clientIp)

  await enforceAccountNotLocked(ctx, ctx.user.id)

  const { isAllowed, attempt } = await reserveChallengeAttempt(ctx)
  if (!isAllowed) {
    // The challenge is over: drop the half-authenticated session so the next guess needs the password.
    await invalidateSession(ctx.db, ctx.session.id)
    deleteSessionCookie(ctx.cookies, ctx.env.appUrl)
    ctx.resetAuth()
    await auditFromContext(ctx, 'mfa.verify.failed', { ...auditFields, details: { factor, reason: 'challenge_attempts_exhausted' } })
    throw appError('UNAUTHENTICATED', CHALLENGE_OVER_MESSAGE)
  }

  const outcome = await verify()
  if (!outcome.ok) {
    const hasJustLocked = await recordAccountFailure(ctx.db, ctx.user.id, ctx.now)
    await auditFromContext(ctx, 'mfa.verify.failed', { ...auditFields, details: { factor, reason: outcome.reason, attempt } })
    if (hasJustLocked) await auditFromContext(ctx, 'account.locked', { subjectUserId: ctx.user.id, organizationId: ctx.user.organizationId })
    throw appError('INVALID_CODE', outcome.reason === 'replayed' ? 'That code was already used. Wait for the next one.' : undefined)
  }

  // A completed sign-in is a privilege change: new token, old one dead (session fixation, OWASP ASVS 3.2.1).
  await rotateSessionAndSetCookie(ctx, ctx.session, { mfaSatisfiedAt: ctx.now, reauthenticatedAt: ctx.now })
  await resetAccountFailures(ctx.db, ctx.user.id)
  return outcome.details
}

/** True when the session re-authenticated within `reauthWindowSeconds` (the rule of `requireRecentReauth`). */
function isRecentlyReauthenticated(session: Session, now: Date): boolean {
  return now.getTime() - session.reauthenticatedAt.getTime() <= appConfig.session.reauthWindowSeconds * 1000
}

export const mfaRouter = createTRPCRouter({
  /** Whether the caller has MFA, since when, and how many recovery codes are left. */
  status: mfaEnrollmentProcedure.query(async ({ ctx }) => {
    const status = await getMfaStatus(ctx.db, ctx.user.id)
    return { isEnabled: status.isEnabled, enabledAt: status.enabledAt?.toISOString() ?? null, recoveryCodesRemaining: status.recoveryCodesRemaining }
  }),

  /**
   * Starts enrollment: a fresh server-generated secret, shown once as key, URI and QR code.
   * Binding a factor is a sensitive change: a session thief who binds their own authenticator owns
   * the account's second factor and, through the revocation at confirmation, locks the owner out.
   * So it needs a recent re-authentication (NIST 800-63B §6.1.2.1: authenticate before binding
   * another authenticator). Forced enrollment is the exception: that session can do nothing else,
   * not even re-authenticate (`auth.reauthenticate` is protected), and was created by a password
   * sign-in.
   */
  beginEnrollment: mfaEnrollmentProcedure.mutation(async ({ ctx }) => {
    if (ctx.auth.mfaState !== 'enrollment_required' && !isRecentlyReauthenticated(ctx.session, ctx.now)) throw appError('REAUTH_REQUIRED')
    const enrollment = await beginTotpEnrollment(ctx.db, ctx.user, ctx.now)
    return { secret: enrollment.secret, otpauthUri: enrollment.otpauthUri, qrCode: enrollment.qrCodeSvg }
  }),

  /**
   * Activates the pending factor with one code from it and returns the recovery codes, once.
   * The current session becomes MFA-satisfied (otherwise the new `mfa_enabled_at` would make it
   * "pending") with a new token, and every other session is revoked: on re-enrollment because the
   * old factor may be in the wrong hands, on first enrollment because those sessions never proved
   * the factor the account now demands.
   */
  confirmEnrollment: mfaEnrollmentProcedure.input(z.strictObject({ code: totpCodeInputSchema })).mutation(async ({ ctx, input }) => {
    await enforceRateLimit(ctx, 'mfaPerIp', ctx.clientIp)
    const result = await confirmTotpEnrollment(ctx.db, ctx.user.id, input.code, ctx.now)
    if (!result.ok) {
      if (result.reason === 'no-pending-enrollment') throw appError('NOT_FOUND', 'No setup is in progress. Start again.')
      throw appError('INVALID_CODE', 'That code does not match. Check the key and your device clock, then try the current code.')
    }
    const isReEnrollment = ctx.user.mfaEnabledAt !== null
    const otherSessionsRevoked = await invalidateUserSessions(ctx.db, ctx.user.id, { exceptSessionId: ctx.session.id })
    // Only mfaSatisfiedAt: a code from a factor bound moments ago proves nothing about who is
    // present (a session thief could have bound it), so it is no re-authentication.
    await rotateSessionAndSetCookie(ctx, ctx.session, { mfaSatisfiedAt: ctx.now })
    await auditOwnAction(ctx, 'mfa.enrolled', { isReEnrollment, otherSessionsRevoked })
    return { recoveryCodes: result.recoveryCodes }
  }),

  /** The sign-in challenge: a TOTP code from the enrolled factor (each time step accepted once). */
  verify: mfaPendingProcedure.input(z.strictObject({ code: totpCodeInputSchema })).mutation(async ({ ctx, input }) => {
    await completeMfaChallenge(ctx, 'totp', async () => {
      const result = await verifyTotpCode(ctx.db, ctx.user.id, input.code, ctx.now)
      return result.ok ? { ok: true, details: {} } : { ok: false, reason: result.reason }
    })
    await auditOwnAction(ctx, 'auth.sign_in.succeeded', { method: ctx.session.authMethod, mfa: 'totp' })
    return { status: 'signed-in' as const }
  }),

  /** The sign-in challenge with a single-use recovery code; says how many remain. */
  useRecoveryCode: mfaPendingProcedure.input(z.strictObject({ code: recoveryCodeInputSchema })).mutation(async ({ ctx, input }) => {
    let remaining = 0
    await completeMfaChallenge(ctx, 'recovery_code', async () => {
      const result = await consumeRecoveryCode(ctx.db, ctx.user.id, input.code, ctx.now)
      if (!result) return { ok: false, reason: 'invalid-code' }
      remaining = result.remaining
      return { ok: true, details: {} }
    })
    const auditFields = { actorUserId: ctx.user.id, subjectUserId: ctx.user.id, organizationId: ctx.user.organizationId }
    await auditFromContext(ctx, 'mfa.recovery_code.used', { ...auditFields, details: { remaining } })
    await auditFromContext(ctx, 'auth.sign_in.succeeded', { ...auditFields, details: { method: ctx.session.authMethod, mfa: 'recovery_code' } })
    return { status: 'signed-in' as const, remaining }
  }),

  /** Replaces the whole set of recovery codes (the old ones stop working); shown once. */
  regenerateRecoveryCodes: sensitiveProcedure.mutation(async ({ ctx }) => {
    const codes = await regenerateRecoveryCodes(ctx.db, ctx.user.id, ctx.now)
    if (!codes) throw appError('NOT_FOUND', 'Two-factor authentication is not turned on.')
    await auditOwnAction(ctx, 'mfa.recovery_codes.regenerated')
    return { recoveryCodes: codes }
  }),

  /**
   * Turns MFA off, unless the organization's policy requires it of this user. Other sessions are
   * revoked and this one gets a new token without the MFA stamp, so should the policy later demand
   * MFA, this session is sent to enrollment rather than counted as satisfied.
   */
  disable: sensitiveProcedure.mutation(async ({ ctx }) => {
    if (isMfaRequiredByPolicy(ctx.organization, ctx.user.role)) {
      throw appError('FORBIDDEN', 'Your organization requires two-factor authentication, so it cannot be turned off.')
    }
    const wasEnabled = await disableTotp(ctx.db, ctx.user.id, ctx.now)
    if (!wasEnabled) return { wasEnabled, otherSessionsRevoked: 0 }
    const otherSessionsRevoked = await invalidateUserSessions(ctx.db, ctx.user.id, { exceptSessionId: ctx.session.id })
    await rotateSessionAndSetCookie(ctx, ctx.session, { mfaSatisfiedAt: null })
    await auditOwnAction(ctx, 'mfa.disabled', { otherSessionsRevoked })
    return { wasEnabled, otherSessionsRevoked }
  }),
})
