/**
 * Server-only: the catalog of audit event types (SPEC §7). One list, so the admin console can
 * label every type and a typo in a caller is a type error rather than a new, unsearchable event.
 * Names are dotted `<area>.<object>.<outcome>`; once written, a name never changes (old rows keep it).
 */
export const AUDIT_EVENT_TYPES = [
  // Password accounts and sessions (issue 3).
  'auth.sign_in.succeeded',
  'auth.sign_in.failed',
  'auth.sign_out',
  'auth.sign_up',
  'auth.reauthenticated',
  'session.revoked',
  'session.revoked_all',
  'password.changed',
  'password.rehashed',
  'password.reset_requested',
  'password.reset_completed',
  'email.verified',
  // Multi-factor authentication (SPEC §5).
  'mfa.enrolled',
  'mfa.disabled',
  'mfa.verify.failed',
  'mfa.recovery_code.used',
  'mfa.recovery_codes.regenerated',
  'mfa.reset_by_admin',
  // Consecutive wrong codes reached lockout.maxConsecutiveMfaFailures (ADR 016); once per streak.
  'mfa.locked',
  // Administration (SPEC §6).
  'user.role_changed',
  'user.provisioned',
  'user.disabled',
  'user.enabled',
  'organization.mfa_policy_changed',
  'organization.sso_policy_changed',
  'domain.added',
  'domain.verified',
  'domain.verification_failed',
  'domain.routed',
  'domain.removed',
  'sso.connection.created',
  'sso.connection.updated',
  'sso.connection.deleted',
  'sso.sign_in.succeeded',
  'sso.sign_in.failed',
  'sso.identity.linked',
  // Abuse controls (SPEC §7). Record a block when a limit starts refusing, not for every refused
  // request: appends are serialized, so one row per request would let a flood throttle the log.
  'rate_limit.blocked',
  'account.locked',
  // Mail (ASVS 6.3.7): a security notification that could not be handed to the relay. The action
  // it reported stands; the owner was not told, so an admin should know.
  'mail.notification_failed',
] as const

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]

const KNOWN_TYPES: ReadonlySet<string> = new Set(AUDIT_EVENT_TYPES)

/** Narrows a string read from the database or an input to a catalogued event type. */
export function isAuditEventType(value: string): value is AuditEventType {
  return KNOWN_TYPES.has(value)
}
