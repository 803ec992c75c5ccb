/**
 * Server-only: step-up re-authentication (SPEC §3; NIST 800-63B-4 §2.2.3 re-authentication before
 * sensitive actions). A session that proved presence recently may change the password, the second
 * factor, roles or SSO settings; an older one gets REAUTH_REQUIRED and the client's re-auth dialog.
 * The recency rule is written here once, for the tRPC guard, server functions and the MFA flows.
 */
import appConfig from '../../../app.config'
import type { Session, User } from '../../../db/schema'
import { auditOwnAction } from '../audit/request-audit'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { getDomainSsoRule, isPasswordRefusedBySso } from '../sso/sso-policy'
import { verifyTotpCode } from './mfa'
import { verifyPassword } from './password'
import { recordLockoutFailure, releaseLockoutAttempt, requireLockoutAttempt } from './account-lockout'
import { endSecondFactorStreak, noteSecondFactorFailure, refuseIfAuthenticatorLocked, reserveSecondFactorAttempt } from './mfa-failure-streak'
import type { AuthState } from './auth-state'
import { rotateSessionAndSetCookie } from './session-actions'

/** What a re-authentication may prove: the password, or (for users with MFA) a TOTP code. */
export type ReauthenticationProof = { password: string } | { code: string }

/** True when the session proved presence within `session.reauthWindowSeconds`. */
export function isRecentlyReauthenticated(session: Pick<Session, 'reauthenticatedAt'>, now: Date): boolean {
  return now.getTime() - session.reauthenticatedAt.getTime() <= appConfig.session.reauthWindowSeconds * 1000
}

/**
 * Throws REAUTH_REQUIRED unless the session re-authenticated recently: a stolen, long-lived session
 * alone cannot change the password, the second factor or anyone's role.
 */
export function requireRecentReauthentication(session: Pick<Session, 'reauthenticatedAt'>, now: Date): void {
  if (!isRecentlyReauthenticated(session, now)) throw appError('REAUTH_REQUIRED')
}

/** Proofs that show the second factor itself, not only the password. */
const SECOND_FACTOR_PROOFS: ReadonlySet<Session['reauthenticatedWith']> = new Set(['totp', 'recovery_code'])

/**
 * For actions that remove or weaken a second factor (turn MFA off, replace recovery codes, bind a
 * new authenticator in place of the old): a user with MFA must have proven that factor within the
 * window (NIST 800-63B-4 §4.2.1.1 authenticator management: at the assurance level being removed).
 * A password alone — a phished one, or a stolen session's fresh step-up — is not enough.
 */
export function requireSecondFactorReauthentication(auth: Pick<AuthState, 'user' | 'session'>, now: Date): void {
  requireRecentReauthentication(auth.session, now)
  if (auth.user.mfaEnabledAt && !SECOND_FACTOR_PROOFS.has(auth.session.reauthenticatedWith)) throw appError('REAUTH_SECOND_FACTOR_REQUIRED')
}

/**
 * True when `code` is a valid, not-yet-used TOTP code of the user's confirmed factor. The code's
 * time step is spent like at sign-in (RFC 6238 §5.2), so a code shoulder-surfed or replayed from
 * the sign-in challenge cannot also be used to step up.
 */
async function verifyReauthenticationCode(ctx: RequestContext, user: Pick<User, 'id' | 'mfaEnabledAt'>, code: string): Promise<boolean> {
  if (!user.mfaEnabledAt) return false
  return (await verifyTotpCode(ctx.db, user.id, code, ctx.now)).ok
}

/**
 * The step-up ladder: rate limit → second-factor cap → lockout → verify → count the failure, or
 * rotate the session → audit. Failures count toward this browser's lockout budget like sign-in
 * failures (ADR 016), and a code's also toward the account's streak of consecutive second-factor
 * failures: a stolen session is no side door around the cap (NIST SP 800-63B-4 §3.2.2). A
 * successful step-up is a privilege change, so the session gets a new token and the old one is
 * dead on the next request on every instance (OWASP ASVS 7.2.4); it records what was proven.
 */
export async function reauthenticate(ctx: RequestContext, auth: { user: User; session: Session }, proof: ReauthenticationProof): Promise<{ reauthenticatedAt: string }> {
  const { user, session } = auth
  await ctx.enforcePerIpRateLimit('signInPerIp')
  if ('code' in proof) await refuseIfAuthenticatorLocked(ctx.db, user.id, 'totp')
  // Under SSO enforcement a password works only for the break-glass owner (ADR 014): an old
  // password of a linked account must not stand in for the IdP at a step-up either.
  if ('password' in proof && isPasswordRefusedBySso(await getDomainSsoRule(ctx.db, user.email), user.id)) {
    throw appError('SSO_REQUIRED', 'Your organization requires single sign-on: confirm at your identity provider instead.')
  }
  const attempt = await requireLockoutAttempt(ctx, user.id)
  if ('password' in proof) {
    if (!(user.passwordHash !== null && (await verifyPassword(user.passwordHash, proof.password)))) {
      await recordLockoutFailure(ctx, attempt, user)
      throw appError('INVALID_CREDENTIALS')
    }
  } else {
    const streakAttempt = await reserveSecondFactorAttempt(ctx.db, user.id, 'totp')
    if (!(await verifyReauthenticationCode(ctx, user, proof.code))) {
      await recordLockoutFailure(ctx, attempt, user)
      await noteSecondFactorFailure(ctx, user, streakAttempt)
      throw appError('INVALID_CODE')
    }
    // The factor itself, proven by a signed-in session: an authentication as complete as a sign-in.
    await endSecondFactorStreak(ctx.db, user.id)
  }
  await releaseLockoutAttempt(ctx, attempt)
  const factor = 'password' in proof ? 'password' : 'totp'
  await rotateSessionAndSetCookie(ctx, session, { reauthenticatedAt: ctx.now, reauthenticatedWith: factor })
  await auditOwnAction(ctx, user, 'auth.reauthenticated', { factor })
  return { reauthenticatedAt: ctx.now.toISOString() }
}
