/**
 * Client-safe: a short label for every audit event type, for the audit log's filter. The `Record`
 * over the server's catalogue (a type-only import) makes a missing label a type error; the keys
 * are the list the filter offers, so the client bundle needs nothing from `src/server/`.
 */
import type { AuditEventType } from '../server/audit/audit-event-types'

const AUDIT_EVENT_LABELS: Record<AuditEventType, string> = {
  'auth.sign_in.succeeded': 'Signed in',
  'auth.sign_in.failed': 'Sign-in failed',
  'auth.sign_out': 'Signed out',
  'auth.sign_up': 'Signed up',
  'auth.reauthenticated': 'Confirmed it was them',
  'session.revoked': 'Session signed out',
  'session.revoked_all': 'All sessions signed out',
  'password.changed': 'Password changed',
  'password.rehashed': 'Password hash upgraded',
  'password.reset_requested': 'Password reset requested',
  'password.reset_completed': 'Password reset',
  'email.verified': 'Email verified',
  'mfa.enrolled': 'Two-factor turned on',
  'mfa.disabled': 'Two-factor turned off',
  'mfa.verify.failed': 'Wrong two-factor code',
  'mfa.recovery_code.used': 'Recovery code used',
  'mfa.recovery_codes.regenerated': 'Recovery codes replaced',
  'mfa.reset_by_admin': 'Two-factor reset by an admin',
  'mfa.locked': 'Two-factor codes blocked',
  'user.role_changed': 'Role changed',
  'user.provisioned': 'Account created by single sign-on',
  'user.disabled': 'Account disabled',
  'user.enabled': 'Account enabled',
  'organization.mfa_policy_changed': 'Two-factor policy changed',
  'organization.sso_policy_changed': 'Single sign-on policy changed',
  'domain.added': 'Domain added',
  'domain.verified': 'Domain verified',
  'domain.verification_failed': 'Domain verification failed',
  'domain.routed': 'Domain routed',
  'domain.removed': 'Domain removed',
  'sso.connection.created': 'Connection created',
  'sso.connection.updated': 'Connection changed',
  'sso.connection.deleted': 'Connection deleted',
  'sso.sign_in.succeeded': 'Single sign-on succeeded',
  'sso.sign_in.failed': 'Single sign-on failed',
  'sso.identity.linked': 'Account linked to single sign-on',
  'rate_limit.blocked': 'Too many attempts blocked',
  'account.locked': 'Account locked',
  'mail.notification_failed': 'Security email not sent',
}

/** Every event type with its label, in the catalogue's order. */
export const AUDIT_EVENT_OPTIONS = Object.entries(AUDIT_EVENT_LABELS).map(([type, label]) => ({ type: type as AuditEventType, label }))
