/**
 * Server-only: a signed-in user managing their own TOTP factor — enrollment, recovery codes and
 * turning it off (SPEC §5). The factor store (`mfa.ts`) makes codes single-use; these flows own the
 * session consequences: which sessions survive a change and which token the caller keeps.
 */
import appConfig from '../../../app.config'
import type { Session, User } from '../../../db/schema'
import { auditOwnAction } from '../audit/request-audit'
import { notifySecurityEvent } from '../mail/security-notifications'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import type { AuthState } from './auth-state'
import { requireCurrentPassword } from './current-password'
import { beginTotpEnrollment, confirmTotpEnrollment, disableTotp, regenerateRecoveryCodes, type TotpEnrollment } from './mfa'
import { isMfaRequiredByPolicy } from './mfa-policy'
import { isAcceptableWithoutSecondFactor } from './password-policy'
import { refuseIfBreakGlassOwner } from '../sso/sso-policy'
import { inOrganizationTransaction } from '../users/organization-lock'
import { requireRecentReauthentication, requireSecondFactorReauthentication } from './reauthentication'
import { invalidateUserSessions, listUserSessions } from './session'
import { rotateSessionAndSetCookie } from './session-actions'

type SignedIn = { user: User; session: Session }

/**
 * Starts enrollment: a fresh server-generated secret, shown once as key, URI and QR code.
 * Binding a factor is a sensitive change: a session thief who binds their own authenticator owns
 * the account's second factor and, through the revocation at confirmation, locks the owner out.
 * So it needs a recent re-authentication (NIST 800-63B §6.1.2.1: authenticate before binding
 * another authenticator). Forced enrollment is the exception: that session can do nothing else,
 * not even re-authenticate, and was created by a sign-in moments ago.
 */
export async function startTotpEnrollment(ctx: RequestContext, auth: AuthState): Promise<TotpEnrollment> {
  // Replacing an existing factor removes it, so that needs the factor itself.
  if (auth.user.mfaEnabledAt) requireSecondFactorReauthentication(auth, ctx.now)
  else if (auth.mfaState !== 'enrollment_required') requireRecentReauthentication(auth.session, ctx.now)
  return beginTotpEnrollment(ctx.db, auth.user, ctx.now)
}

/**
 * Activates the pending factor with one code from it and returns the recovery codes, once.
 * The current session becomes MFA-satisfied (otherwise the new `mfa_enabled_at` would make it
 * "pending") under a new token, and every other session is revoked: on re-enrollment because the
 * old factor may be in the wrong hands, on first enrollment because those sessions never proved
 * the factor the account now demands.
 */
export async function finishTotpEnrollment(ctx: RequestContext, auth: SignedIn, code: string): Promise<{ recoveryCodes: string[] }> {
  const { user, session } = auth
  await ctx.enforcePerIpRateLimit('mfaPerIp')
  const result = await confirmTotpEnrollment(ctx.db, user.id, code, ctx.now)
  if (!result.ok) {
    if (result.reason === 'no-pending-enrollment') throw appError('NOT_FOUND', 'No setup is in progress. Start again.')
    throw appError('INVALID_CODE', 'That code does not match. Check the key and your device clock, then try the current code.')
  }
  const isReEnrollment = user.mfaEnabledAt !== null
  const otherSessionsRevoked = await invalidateUserSessions(ctx.db, user.id, { exceptSessionId: session.id })
  // Only mfaSatisfiedAt: a code from a factor bound moments ago proves nothing about who is
  // present (a session thief could have bound it), so it is no re-authentication.
  await rotateSessionAndSetCookie(ctx, session, { mfaSatisfiedAt: ctx.now, mfaMethod: 'totp' })
  await auditOwnAction(ctx, user, 'mfa.enrolled', { isReEnrollment, otherSessionsRevoked })
  await notifySecurityEvent(ctx, user, { kind: 'mfa-enabled' })
  return { recoveryCodes: result.recoveryCodes }
}

/**
 * Replaces the whole set of recovery codes (the old ones stop working); shown once. The old codes
 * are authenticators being removed, so this needs a second-factor re-authentication, and the session
 * gets a new token like after any privilege change. Codes are often regenerated because the old
 * ones may have leaked, so the answer says how many other sessions exist: the page offers to end them.
 */
export async function replaceRecoveryCodes(ctx: RequestContext, auth: SignedIn): Promise<{ recoveryCodes: string[]; otherSessionCount: number }> {
  requireSecondFactorReauthentication(auth, ctx.now)
  const codes = await regenerateRecoveryCodes(ctx.db, auth.user.id, ctx.now)
  if (!codes) throw appError('NOT_FOUND', 'Two-factor authentication is not turned on.')
  const rotated = await rotateSessionAndSetCookie(ctx, auth.session, {})
  await auditOwnAction(ctx, auth.user, 'mfa.recovery_codes.regenerated')
  await notifySecurityEvent(ctx, auth.user, { kind: 'recovery-codes-regenerated' })
  const otherSessionCount = (await listUserSessions(ctx.db, auth.user.id, ctx.now)).filter((session) => session.id !== rotated.id).length
  return { recoveryCodes: codes, otherSessionCount }
}

const PASSWORD_TOO_WEAK_ALONE_MESSAGE =
  `Your password is too weak to protect your account without two-factor authentication: a password used on its own needs at least ${appConfig.password.minLengthWithoutMfa} characters and must be hard to guess. Change your password first, then turn two-factor authentication off.`

/**
 * Turns MFA off, unless the organization's policy requires it of this user. Other sessions are
 * revoked and this one gets a new token without the MFA stamp, so should the policy later demand
 * MFA, this session is sent to enrollment rather than counted as satisfied.
 *
 * With a password on the account, that password alone opens it afterwards, so it must meet the
 * single-factor policy (NIST SP 800-63B-4 §3.1.1.2: 15 characters, not the 8 allowed beside a
 * second factor). Only the plaintext tells, so the request carries the current password: verified
 * (lockout-bounded), then checked; a password that may not stand alone is refused with a sentence
 * that says to change it first, and nothing is written (ADR 018).
 */
export async function turnOffTotp(ctx: RequestContext, auth: AuthState, input: { currentPassword?: string }): Promise<{ wasEnabled: boolean; otherSessionsRevoked: number }> {
  const { user, session, organization } = auth
  requireSecondFactorReauthentication(auth, ctx.now)
  if (isMfaRequiredByPolicy(organization, user.role)) {
    throw appError('FORBIDDEN', 'Your organization requires two-factor authentication, so it cannot be turned off.')
  }
  if (user.passwordHash) {
    if (input.currentPassword === undefined) throw appError('INVALID_INPUT', 'Enter your current password.')
    await requireCurrentPassword(ctx, user, input.currentPassword)
    if (!isAcceptableWithoutSecondFactor(input.currentPassword, user.email)) throw appError('PASSWORD_POLICY', PASSWORD_TOO_WEAK_ALONE_MESSAGE)
  }
  // Under the organization lock, like every change that can weaken an owner: an owner naming this
  // user break-glass owner at the same moment either sees the factor gone (and is refused) or has
  // named them first (and this is refused).
  const wasEnabled = user.organizationId
    ? await inOrganizationTransaction(ctx.db, user.organizationId, async (tx, locked) => {
        refuseIfBreakGlassOwner(locked, user.id)
        return disableTotp(tx, user.id, ctx.now)
      })
    : await disableTotp(ctx.db, user.id, ctx.now)
  if (!wasEnabled) return { wasEnabled, otherSessionsRevoked: 0 }
  const otherSessionsRevoked = await invalidateUserSessions(ctx.db, user.id, { exceptSessionId: session.id })
  // The password was just found fit to stand alone (or the account has none).
  await rotateSessionAndSetCookie(ctx, session, { mfaSatisfiedAt: null, mfaMethod: null, passwordNeedsSecondFactor: false })
  await auditOwnAction(ctx, user, 'mfa.disabled', { otherSessionsRevoked })
  await notifySecurityEvent(ctx, user, { kind: 'mfa-disabled' })
  return { wasEnabled, otherSessionsRevoked }
}
