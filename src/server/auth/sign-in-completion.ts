/**
 * Server-only: the one way every sign-in ends — password, sign-up, the MFA challenge, and SSO.
 * Whatever proved the user's identity, the same steps follow in the same order, so no path can
 * keep an old token alive, skip the organization's MFA policy, or forget the audit trail.
 */
import appConfig from '../../../app.config'
import type { User } from '../../../db/schema'
import { notifySecurityEvent } from '../mail/security-notifications'
import type { AuditEventType } from '../audit/audit-event-types'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { isKnownDevice, rememberDevice } from './known-devices'
import { resetLockoutBudget } from './account-lockout'
import { endSecondFactorStreak } from './mfa-failure-streak'
import type { AuthMethod, ReauthFactor, SessionMetadata } from './session'
import { createSessionAndSetCookie, endIncomingSession, rotateSessionAndSetCookie } from './session-actions'

/** What every sign-in answers: where the user stands once the session exists. */
export type SignInResult = { status: 'signed-in' } | { status: 'mfa-required' } | { status: 'mfa-enrollment-required' }

export type SignInCompletion = {
  authMethod: AuthMethod
  /** What this step proved: the password, a second factor, or the IdP's authentication. */
  provenWith: ReauthFactor
  ssoConnectionId?: string | null
  /** Set when this sign-in proved a second factor (the MFA challenge, or an IdP's MFA the organization trusts). */
  mfaSatisfiedAt?: Date | null
  /** Which second factor that was. */
  mfaMethod?: SessionMetadata['mfaMethod']
  /** What an IdP asserted about how it authenticated the user (`amr` / `acr`), bounded, non-secret. */
  idpAuthnContext?: string | null
  /**
   * A password sign-in whose password may not stand alone (the user has no second factor): the
   * session is sent to MFA enrollment before anything else (ADR 018).
   */
  passwordNeedsSecondFactor?: boolean
  /** The account was created by this request (sign-up, SSO provisioning): its first browser is remembered silently. */
  isNewAccount?: boolean
  /** The audit event of a completed sign-in: `auth.sign_in.succeeded` unless the path names its own. */
  auditType?: AuditEventType
  auditDetails?: Record<string, unknown>
}

/**
 * Gives `user` a session from this request and says what remains to do:
 * 1. the session the browser arrived with ends — except a second factor completing the same
 *    sign-in, which continues that session under a new token (session fixation, OWASP ASVS 3.2.1;
 *    a concurrently revoked challenge session is not resurrected);
 * 2. the new session's cookie is set; a session that still owes the second factor lives only
 *    `mfa.challengeLifetimeSeconds`, and proving the factor gives it the normal lifetimes;
 * 3. the MFA state comes from the organization's policy (`getMfaState`), the same as every guard;
 * 4. only a fully signed-in user gets the failure counts reset and the success audited: a password
 *    alone is not a sign-in while a factor is owed, so it never ends a streak of wrong codes
 *    (NIST SP 800-63B-4 §3.2.2; ADR 016). The lockout budget reset is this browser's only: the
 *    owner's success on a known device must not refill an attacker's budget.
 */
export async function completeSignIn(ctx: RequestContext, user: Pick<User, 'id' | 'organizationId' | 'email' | 'mfaEnabledAt'>, completion: SignInCompletion): Promise<SignInResult> {
  const incoming = await ctx.getAuth()
  // Only a factor proven inside the pending session (the MFA challenge) continues it. An IdP's
  // authentication is a sign-in of its own even when it also satisfies MFA: it always gets the
  // connection's new session, so the connection's revocation reaches it and what the IdP asserted
  // is recorded (ADR 014).
  const isSecondFactorProof = completion.provenWith === 'totp' || completion.provenWith === 'recovery_code'
  const isSecondStepOfSameSignIn =
    isSecondFactorProof && incoming !== null && incoming.mfaState === 'pending' && incoming.user.id === user.id && completion.mfaSatisfiedAt != null
  if (isSecondStepOfSameSignIn) {
    await rotateSessionAndSetCookie(ctx, incoming.session, {
      mfaSatisfiedAt: completion.mfaSatisfiedAt,
      mfaMethod: completion.mfaMethod ?? null,
      reauthenticatedAt: ctx.now,
      reauthenticatedWith: completion.provenWith,
      // The challenge (minutes) becomes a full session (the normal lifetimes, from the sign-in).
      isChallengeCompleted: true,
    })
  } else {
    await endIncomingSession(ctx)
    await createSessionAndSetCookie(ctx, user.id, {
      authMethod: completion.authMethod,
      ssoConnectionId: completion.ssoConnectionId ?? null,
      mfaSatisfiedAt: completion.mfaSatisfiedAt ?? null,
      mfaMethod: completion.mfaMethod ?? null,
      idpAuthnContext: completion.idpAuthnContext ?? null,
      reauthenticatedWith: completion.provenWith,
      // `getMfaState`'s "pending", decided before the row exists: the session starts as a short challenge.
      isSecondFactorOwed: user.mfaEnabledAt !== null && !completion.mfaSatisfiedAt,
      passwordNeedsSecondFactor: completion.passwordNeedsSecondFactor ?? false,
    })
  }

  const auth = await ctx.getAuth()
  // The user was disabled (or the session revoked) between the check and now: nothing is granted.
  if (!auth) throw appError('UNAUTHENTICATED')
  if (auth.mfaState === 'pending') return { status: 'mfa-required' }

  await resetLockoutBudget(ctx, user.id)
  if (auth.user.mfaEnabledAt) await endSecondFactorStreak(ctx.db, user.id)
  await ctx.audit(completion.auditType ?? 'auth.sign_in.succeeded', {
    actorUserId: user.id,
    subjectUserId: user.id,
    organizationId: user.organizationId,
    details: completion.auditDetails ?? { method: completion.authMethod },
  })
  await noteSignInDevice(ctx, user, { isNewAccount: completion.isNewAccount === true })
  return auth.mfaState === 'enrollment_required' ? { status: 'mfa-enrollment-required' } : { status: 'signed-in' }
}

/**
 * Tells the owner about a sign-in from a browser this account has not completed a sign-in on before
 * (OWASP ASVS 6.3.7; ADR 013), then remembers the browser. A brand-new account's first browser is
 * remembered silently.
 */
async function noteSignInDevice(ctx: RequestContext, user: Pick<User, 'id' | 'organizationId' | 'email'>, options: { isNewAccount: boolean }): Promise<void> {
  const isKnown = isKnownDevice(ctx.cookies, ctx.env.appUrl, user.id)
  rememberDevice(ctx.cookies, ctx.env.appUrl, user.id)
  if (!isKnown && !options.isNewAccount && appConfig.notifications.isNewDeviceSignInMailEnabled) {
    await notifySecurityEvent(ctx, user, { kind: 'new-device-sign-in' })
  }
}
