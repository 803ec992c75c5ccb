/**
 * Client-safe: every audit event as a sentence an organization admin can read ("Ada Admin changed
 * Max Member's role from Member to Admin."), instead of the catalogue's dotted names and the raw
 * `details` JSON. One describer per event type in the catalogue (src/server/audit/audit-event-types.ts);
 * the `Record` makes a missing one a type error, and audit-sentences.test.ts walks the catalogue at
 * run time. `details` come from the database, so every describer reads them defensively: an old row
 * or an unexpected shape still yields a sentence, never an exception or a key name.
 */
import type { AuditEventType } from '../server/audit/audit-event-types'
import { describeAuthMethod, describeRole } from './auth-labels'

/** What a describer needs to know about one event. */
export type AuditEventForSentence = {
  type: string
  actorUserId: string | null
  subjectUserId: string | null
  details: Record<string, unknown>
}

/** A person's display name, or null when they are not (or no longer) in the organization. */
export type PersonLookup = (userId: string) => string | null

type SentenceParts = {
  /** Who acted: a name, "Someone outside your organization", or "The system" / "An operator". */
  actor: string
  /** Whom it concerned: a name, or a stand-in. */
  subject: string
  /** True when the actor and the subject are one person (or no distinct actor was recorded). */
  isOwnAction: boolean
  details: Record<string, unknown>
}

type Describer = (parts: SentenceParts) => string

const SOMEONE_OUTSIDE = 'someone outside your organization'
const UNKNOWN_ACCOUNT = 'an unknown account'

/** Why a single sign-on was refused, in words (reason codes from `src/server/sso/`). */
const SSO_FAILURE_REASONS: Record<string, string> = {
  idp_error: 'the identity provider reported an error',
  unknown_state: 'the sign-in link was not one we started',
  expired: 'it took too long',
  already_consumed: 'the sign-in response was used before',
  browser_mismatch: 'it finished in another browser than it started in',
  connection_mismatch: 'the response came back for another connection',
  connection_disabled: 'the connection is turned off',
  token_invalid: 'the identity provider’s answer did not pass our checks',
  idp_unreachable: 'the identity provider could not be reached',
  email_missing: 'the identity provider sent no email address',
  email_not_verified: 'the identity provider did not confirm the email address',
  domain_not_verified: 'the email domain is not verified for this organization',
  user_in_other_organization: 'the account belongs to another organization',
  user_disabled: 'the account is disabled',
  role_above_connection: 'the account’s role is above what this connection may sign in',
}

/** "1 session" / "3 sessions". */
function countOf(value: unknown, singular: string, plural = `${singular}s`): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null
  return `${value} ${value === 1 ? singular : plural}`
}

/** A trailing clause when a count is known and non-zero: " 2 other sessions were signed out." */
function signedOutClause(value: unknown, other = false): string {
  if (typeof value !== 'number' || value <= 0) return ''
  const noun = countOf(value, other ? 'other session' : 'session')
  return ` ${noun} ${value === 1 ? 'was' : 'were'} signed out.`
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null
}

function possessive(name: string): string {
  return name.endsWith('s') ? `${name}’` : `${name}’s`
}

function capitalize(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1)
}

const SIGN_IN_FAILURE_REASONS: Record<string, string> = {
  bad_password: 'wrong password',
  unknown_email: 'unknown email address',
  disabled: 'the account is disabled',
  locked: 'the account was temporarily locked after repeated failures',
  sso_enforced: 'the organization requires single sign-on',
}

/** Keyed by what `mfa.verify.failed` records (`src/server/auth/mfa.ts` reasons). */
const MFA_FAILURE_REASONS: Record<string, string> = {
  'invalid-code': 'wrong code',
  replayed: 'a code that had already been used',
  challenge_attempts_exhausted: 'too many wrong codes; the sign-in was cancelled',
}

const RESET_REFUSAL_REASONS: Record<string, string> = {
  no_password: 'the account signs in through single sign-on and has no password',
  disabled: 'the account is disabled',
}

const MFA_POLICY_LABELS: Record<string, string> = {
  optional: 'optional',
  required: 'required for everyone',
  required_for_role: 'required for a role and above',
}

/** "required for admins and above" / "optional". */
function describeMfaPolicy(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null
  const { policy, minRole } = value as { policy?: unknown; minRole?: unknown }
  if (policy === 'required_for_role' && typeof minRole === 'string') return `required for ${describeRole(minRole).toLowerCase()}s and above`
  return typeof policy === 'string' ? (MFA_POLICY_LABELS[policy] ?? null) : null
}

function describeSecondFactor(value: unknown): string {
  if (value === 'recovery_code') return ' with a recovery code'
  if (value === 'totp') return ' with an authenticator code'
  return ''
}

/** Why a DNS check of a domain failed, in words. */
const DOMAIN_CHECK_FAILURES: Record<string, string> = {
  no_record: 'no verification record was found in DNS',
  wrong_value: 'the DNS record has another value',
  dns_error: 'DNS did not answer',
  claimed_elsewhere: 'another organization has verified it',
}

/** One sentence per catalogued event type; keep them plain, past tense, without identifiers. */
const DESCRIBERS: Record<AuditEventType, Describer> = {
  'auth.sign_in.succeeded': ({ subject, details }) => {
    const method = text(details.method)
    const label = method && method !== 'password' ? describeAuthMethod(method) : null
    // An unknown method comes back as sent (a machine word): leave it out rather than show it.
    const via = label && label !== method ? ` through ${label.charAt(0).toLowerCase()}${label.slice(1)}` : ''
    return `${subject} signed in${via}${describeSecondFactor(details.mfa)}.`
  },
  'auth.sign_in.failed': ({ subject, details }) => {
    const reason = text(details.reason)
    const why = reason ? SIGN_IN_FAILURE_REASONS[reason] : undefined
    return `A sign-in as ${subject} failed${why ? ` (${why})` : ''}.`
  },
  'auth.sign_out': ({ subject }) => `${subject} signed out.`,
  'auth.sign_up': ({ subject }) => `${subject} created an account.`,
  'auth.reauthenticated': ({ subject, details }) =>
    `${subject} confirmed it was them${details.factor === 'totp' ? ' with an authenticator code' : details.factor === 'password' ? ' with their password' : ''} before a sensitive change.`,
  'session.revoked': ({ actor, subject, isOwnAction }) => (isOwnAction ? `${subject} signed out one of their sessions.` : `${actor} signed out one session of ${subject}.`),
  'session.revoked_all': ({ actor, subject, isOwnAction, details }) => {
    const count = countOf(details.count, 'session')
    if (details.byOperator === true) return `An operator signed out every session of ${subject}${count ? ` (${count})` : ''}.`
    if (isOwnAction && details.byAdmin !== true) return `${subject} signed out all their other sessions${count ? ` (${count})` : ''}.`
    return `${actor} signed out every session of ${subject}${count ? ` (${count})` : ''}.`
  },
  'password.changed': ({ subject, details }) => `${subject} changed their password.${signedOutClause(details.otherSessionsRevoked, true)}`,
  'password.rehashed': ({ subject }) => `The stored password of ${subject} was upgraded to the current hashing settings at sign-in.`,
  'mail.notification_failed': ({ subject }) => `A security notification to ${subject} could not be sent.`,
  'password.reset_requested': ({ subject, details }) => {
    if (details.isLinkSent === false) {
      const reason = text(details.reason)
      const why = reason ? RESET_REFUSAL_REASONS[reason] : undefined
      return `A password reset was requested for ${subject}; no link was sent${why ? ` because ${why}` : ''}.`
    }
    return `A password reset link was emailed to ${subject}.`
  },
  'password.reset_completed': ({ subject, details }) =>
    `${subject} chose a new password from a reset link.${signedOutClause(details.sessionsRevoked)}${details.isEmailNewlyVerified === true ? ' Their email address is now verified.' : ''}`,
  'email.verified': ({ subject }) => `${subject} verified their email address.`,
  'mfa.enrolled': ({ subject, details }) =>
    `${subject} ${details.isReEnrollment === true ? 'moved two-factor authentication to a new authenticator app' : 'turned on two-factor authentication'}.${signedOutClause(details.otherSessionsRevoked, true)}`,
  'mfa.disabled': ({ subject, details }) => `${subject} turned off two-factor authentication.${signedOutClause(details.otherSessionsRevoked, true)}`,
  'mfa.verify.failed': ({ subject, details }) => {
    const reason = text(details.reason)
    const why = reason ? MFA_FAILURE_REASONS[reason] : undefined
    const what = details.factor === 'recovery_code' ? 'A recovery code' : 'An authenticator code'
    return `${what} for ${subject} was refused${why ? ` (${why})` : ''}.`
  },
  'mfa.recovery_code.used': ({ subject, details }) => {
    const left = countOf(details.remaining, 'recovery code')
    return `${subject} signed in with a recovery code${left ? `; ${left} left` : ''}.`
  },
  'mfa.recovery_codes.regenerated': ({ subject }) => `${subject} generated a new set of recovery codes; the old ones stopped working.`,
  'mfa.locked': ({ subject, details }) => {
    const failures = countOf(details.failures, 'wrong code')
    return `Authenticator codes for ${subject} were blocked after ${failures ?? 'too many wrong codes'} in a row, until a recovery code is used or an admin resets two-factor authentication.`
  },
  'mfa.reset_by_admin': ({ actor, subject, details }) => `${actor} reset the two-factor authentication of ${subject}.${signedOutClause(details.sessionsRevoked)}`,
  'user.role_changed': ({ actor, subject, details }) => {
    const from = text(details.from)
    const to = text(details.to)
    if (from && to) return `${actor} changed ${possessive(subject)} role from ${describeRole(from)} to ${describeRole(to)}.`
    return `${actor} changed ${possessive(subject)} role.`
  },
  'user.disabled': ({ actor, subject, details }) => `${actor} disabled the account of ${subject}.${signedOutClause(details.sessionsRevoked)}`,
  'user.enabled': ({ actor, subject }) => `${actor} enabled the account of ${subject} again.`,
  'organization.mfa_policy_changed': ({ actor, details }) => {
    const next = describeMfaPolicy(details)
    const previous = describeMfaPolicy(details.previous)
    if (!next) return `${actor} changed the two-factor authentication policy.`
    return `${actor} made two-factor authentication ${next}${previous && previous !== next ? ` (it was ${previous})` : ''}.`
  },
  'organization.sso_policy_changed': ({ actor, details }) => {
    const revoked = countOf(details.signedOutSessions, 'password session')
    const trust = details.mfaMode === 'trust_idp_mfa' ? ' The identity provider’s two-factor authentication is trusted.' : ''
    return details.isEnforced === true
      ? `${actor} made single sign-on mandatory${revoked ? `; ${revoked} signed out` : ''}.${trust}`
      : `${actor} changed the single sign-on policy (passwords are allowed).${trust}`
  },
  'domain.added': ({ actor, details }) => `${actor} added the domain ${text(details.domain) ?? 'of the organization'}.`,
  'domain.verified': ({ details }) => `The domain ${text(details.domain) ?? 'of the organization'} was verified.`,
  'domain.removed': ({ actor, details }) => `${actor} removed the domain ${text(details.domain) ?? 'of the organization'}.`,
  'domain.verification_failed': ({ details }) => {
    const reason = text(details.reason)
    const why = reason ? DOMAIN_CHECK_FAILURES[reason] : undefined
    return `The domain ${text(details.domain) ?? 'of the organization'} could not be verified${why ? ` (${why})` : ''}.`
  },
  'domain.routed': ({ actor, details }) =>
    details.connectionId ? `${actor} sent sign-ins for ${text(details.domain) ?? 'a domain'} to a single sign-on connection.` : `${actor} stopped single sign-on for ${text(details.domain) ?? 'a domain'}.`,
  'sso.connection.created': ({ actor, details }) => `${actor} added the single sign-on connection ${quoted(details.displayName ?? details.name)}.`,
  'sso.connection.updated': ({ actor, details }) => `${actor} changed the single sign-on connection ${quoted(details.displayName ?? details.name)}.`,
  'sso.connection.deleted': ({ actor, details }) => `${actor} deleted the single sign-on connection ${quoted(details.displayName ?? details.name)}.`,
  'sso.sign_in.succeeded': ({ subject, details }) => `${subject} signed in through single sign-on${text(details.name) ? ` (${details.name as string})` : ''}.`,
  'sso.sign_in.failed': ({ subject, details }) => {
    const reason = text(details.reason)
    const why = reason ? SSO_FAILURE_REASONS[reason] : undefined
    return `A single sign-on attempt${subject === UNKNOWN_ACCOUNT ? '' : ` for ${subject}`} failed${why ? ` (${why})` : ''}.`
  },
  'sso.identity.linked': ({ subject, details }) =>
    `${subject}’s existing account was linked to their identity provider account.${details.removedSignInFactors === true ? ' Its password and two-factor settings were removed, because the email address had never been verified.' : ''}`,
  'user.provisioned': ({ subject }) => `${subject} was created at their first single sign-on.`,
  'rate_limit.blocked': ({ subject }) => `Too many attempts for ${subject}: further attempts are refused for a while.`,
  'account.locked': ({ subject, details }) => {
    // Scopes of ADR 016; rows written before it have none.
    if (details.scope === 'untrusted_clients') {
      return `Sign-ins to the account of ${subject} from browsers it was never used on were paused for a while after repeated failures; browsers it was used on can still sign in.`
    }
    if (details.scope === 'known_device') return `Sign-ins to the account of ${subject} from one of its own browsers were paused for a while after repeated failures.`
    return `The account of ${subject} was locked for a while after repeated failed sign-ins.`
  },
}

function quoted(value: unknown): string {
  const name = text(value)
  return name ? `“${name}”` : '(unnamed)'
}

/** True when the catalogue type has a sentence (the unit test walks the whole catalogue with it). */
export function hasAuditSentence(type: string): boolean {
  return Object.hasOwn(DESCRIBERS, type)
}

/**
 * The event as one sentence. People are named through `lookupPerson`; someone not found there is
 * "someone outside your organization". An event type this build does not know (a newer server)
 * still reads as a sentence, never as its raw name.
 */
export function describeAuditEvent(event: AuditEventForSentence, lookupPerson: PersonLookup): string {
  const name = (id: string | null) => (id ? (lookupPerson(id) ?? SOMEONE_OUTSIDE) : null)
  const subjectName = name(event.subjectUserId)
  const actorName = name(event.actorUserId)
  const parts: SentenceParts = {
    // Changes made through the CLI carry `byOperator`: a person did them, from outside the console.
    actor: actorName ?? (event.details?.byOperator === true ? 'An operator' : 'The system'),
    subject: subjectName ?? actorName ?? UNKNOWN_ACCOUNT,
    isOwnAction: event.actorUserId === null || event.actorUserId === event.subjectUserId,
    details: event.details ?? {},
  }
  const describe = hasAuditSentence(event.type) ? DESCRIBERS[event.type as AuditEventType] : null
  if (!describe) return 'A security event this version of the console cannot describe yet.'
  return capitalize(describe(parts))
}
