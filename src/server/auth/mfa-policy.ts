/**
 * Server-only: where a session stands with respect to MFA. One function decides it for every
 * guard, so no path (password, OIDC, SAML) can skip the organization's policy.
 */
import appConfig from '../../../app.config'
import { satisfiesRole } from '../../lib/roles'
import type { MfaPolicy, Session, User } from '../../../db/schema'
import type { SessionOrganization } from './session'

export type { MfaPolicy }

/**
 * - `satisfied`: a second factor was proven in this session (or trusted from the IdP).
 * - `not_required`: the user has no factor and the policy does not demand one.
 * - `pending`: the user has a factor and this session has not proven it yet.
 * - `enrollment_required`: a factor the user does not have yet is demanded — by the
 *   organization's policy, or because the password this session signed in with may not stand
 *   alone (see `MfaEnrollmentReason`).
 */
export type MfaState = 'satisfied' | 'not_required' | 'pending' | 'enrollment_required'

/**
 * Why enrollment is demanded: the organization's policy, or a password that meets only the policy
 * for a password beside a second factor (NIST SP 800-63B-4 §3.1.1.2; ADR 018). The enrollment page
 * tells the user which.
 */
export type MfaEnrollmentReason = 'organization_policy' | 'password_needs_second_factor'

/** True when the organization's policy demands MFA of a user with this role. */
export function isMfaRequiredByPolicy(organization: SessionOrganization | null, role: string): boolean {
  const policy: MfaPolicy = organization?.mfaPolicy ?? appConfig.mfa.defaultPolicy
  if (policy === 'required') return true
  if (policy === 'required_for_role' && organization?.mfaRequiredMinRole) {
    return satisfiesRole(role, organization.mfaRequiredMinRole)
  }
  return false
}

/**
 * Why a session in this state may not use an endpoint that needs a full sign-in, or null when it
 * may. The one rule behind `protectedProcedure` and the server-function guard alike.
 */
export function getFullSignInRefusal(mfaState: MfaState): 'MFA_REQUIRED' | 'MFA_ENROLLMENT_REQUIRED' | null {
  if (mfaState === 'pending') return 'MFA_REQUIRED'
  if (mfaState === 'enrollment_required') return 'MFA_ENROLLMENT_REQUIRED'
  return null
}

/** The session's MFA state, from data already loaded with the session (no extra query). */
export function getMfaState(session: Pick<Session, 'mfaSatisfiedAt' | 'passwordNeedsSecondFactor'>, user: Pick<User, 'mfaEnabledAt' | 'role'>, organization: SessionOrganization | null): MfaState {
  if (session.mfaSatisfiedAt) return 'satisfied'
  if (user.mfaEnabledAt) return 'pending'
  return getMfaEnrollmentReason(session, user, organization) ? 'enrollment_required' : 'not_required'
}

/** Why a session without a proven factor must enroll one, or null when nothing demands it (the policy first). */
export function getMfaEnrollmentReason(session: Pick<Session, 'passwordNeedsSecondFactor'>, user: Pick<User, 'role'>, organization: SessionOrganization | null): MfaEnrollmentReason | null {
  if (isMfaRequiredByPolicy(organization, user.role)) return 'organization_policy'
  return session.passwordNeedsSecondFactor ? 'password_needs_second_factor' : null
}
