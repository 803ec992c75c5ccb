/**
 * Server-only: the cap on consecutive failed second-factor attempts on an account (NIST SP
 * 800-63B-4 §3.2.2: no more than 100; ADR 016). The lockout's windows forget: on their own they let
 * someone who has the password try ~960 TOTP codes a day, forever (~0.3 % a day to get in). This
 * streak forgets nothing but a success.
 *
 * - Every attempt with a code (TOTP or recovery code, at the sign-in challenge or at step-up) is
 *   counted before it is checked, with one atomic UPDATE that returns the new count through
 *   `LAST_INSERT_ID(expr)` (as the rate-limit buckets do): concurrent guesses cannot overdraw the cap.
 * - Only a fully successful authentication ends the streak: a completed sign-in, or a TOTP step-up.
 *   A correct password alone never does (it is what the attacker already has); neither does a
 *   password reset (a mailbox is not a second factor) nor the passing of a lockout window.
 * - At the cap, authenticator codes are refused, the right one too (MFA_LOCKED), and the owner is
 *   mailed once. Recovery codes still work: 120 bits each, so a cap protects nothing there (NIST
 *   asks rate limiting of look-up secrets only under 64 bits), and signing in with one ends the
 *   streak. Without codes left, an admin's MFA reset removes the factor, and the streak with it.
 *
 * Stored on the confirmed factor's row (`totp_credentials.consecutive_failures`), written by primary
 * key so no statement here takes gap locks on `user_id` (see `mfa.ts` on enrollment deadlocks).
 */
import { and, eq, isNotNull, ne, sql } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { totpCredentials, type User } from '../../../db/schema'
import type { Database } from '../db/client'
import { appError } from '../errors'
import { notifySecurityEvent } from '../mail/security-notifications'
import type { RequestContext } from '../request-context'

type Account = Pick<User, 'id' | 'email' | 'organizationId'>

export type SecondFactor = 'totp' | 'recovery_code'

/** The confirmed factor's row id and streak, or null when the user has no factor. */
async function getFactorStreak(db: Database, userId: string): Promise<{ credentialId: string; consecutiveFailures: number } | null> {
  const [row] = await db
    .select({ credentialId: totpCredentials.id, consecutiveFailures: totpCredentials.consecutiveFailures })
    .from(totpCredentials)
    .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)))
    .limit(1)
  return row ?? null
}

/** True once the streak has reached the configured cap: authenticator codes are refused. */
export function isAuthenticatorLocked(consecutiveFailures: number): boolean {
  return consecutiveFailures >= appConfig.lockout.maxConsecutiveMfaFailures
}

function mfaLockedError() {
  return appError('MFA_LOCKED')
}

/**
 * Refuses an authenticator code with MFA_LOCKED once the streak is at the cap. Reads only, so a
 * refused code writes nothing; recovery codes pass (see the module comment).
 */
export async function refuseIfAuthenticatorLocked(db: Database, userId: string, factor: SecondFactor): Promise<void> {
  if (factor !== 'totp') return
  const streak = await getFactorStreak(db, userId)
  if (streak && isAuthenticatorLocked(streak.consecutiveFailures)) throw mfaLockedError()
}

/**
 * Counts this attempt before the code is checked and returns the streak including it (0 when the
 * user has no factor). Past the cap an authenticator code is refused unchecked: two requests that
 * both read "one below the cap" cannot both be verified.
 */
export async function reserveSecondFactorAttempt(db: Database, userId: string, factor: SecondFactor): Promise<number> {
  const streak = await getFactorStreak(db, userId)
  if (!streak) return 0
  const [result] = (await db.execute(sql`
    UPDATE totp_credentials SET consecutive_failures = LAST_INSERT_ID(consecutive_failures + 1) WHERE id = ${streak.credentialId}
  `)) as unknown as [{ insertId: number; affectedRows: number }]
  // The factor was replaced between the read and the write: there is nothing left to guess at.
  if (result.affectedRows !== 1) return 0
  const attempt = Number(result.insertId)
  if (factor === 'totp' && attempt > appConfig.lockout.maxConsecutiveMfaFailures) throw mfaLockedError()
  return attempt
}

/**
 * After a failed check: the attempt that reached the cap (only one request gets that count) audits
 * `mfa.locked` and tells the owner, who did not make the guesses or will want to know they count.
 */
export async function noteSecondFactorFailure(ctx: RequestContext, user: Account, attempt: number): Promise<void> {
  const cap = appConfig.lockout.maxConsecutiveMfaFailures
  if (attempt !== cap) return
  await ctx.audit('mfa.locked', { subjectUserId: user.id, organizationId: user.organizationId, details: { failures: cap } })
  await notifySecurityEvent(ctx, user, { kind: 'mfa-locked', failures: cap })
}

/** Ends the streak after a fully successful authentication with the second factor. */
export async function endSecondFactorStreak(db: Database, userId: string): Promise<void> {
  const streak = await getFactorStreak(db, userId)
  if (!streak || streak.consecutiveFailures === 0) return
  await db.update(totpCredentials).set({ consecutiveFailures: 0 }).where(and(eq(totpCredentials.id, streak.credentialId), ne(totpCredentials.consecutiveFailures, 0)))
}
