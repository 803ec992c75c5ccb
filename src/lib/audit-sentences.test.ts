import { describe, expect, it } from 'vitest'
// The server catalogue is imported by this test only: client code must not import src/server.
import { AUDIT_EVENT_TYPES } from '../server/audit/audit-event-types'
import { describeAuditEvent, hasAuditSentence, type AuditEventForSentence } from './audit-sentences'

const PEOPLE: Record<string, string> = { ada: 'Ada Admin', max: 'Max Member' }
const lookup = (id: string) => PEOPLE[id] ?? null

function event(type: string, details: Record<string, unknown> = {}, actorUserId: string | null = 'ada', subjectUserId: string | null = 'max'): AuditEventForSentence {
  return { type, actorUserId, subjectUserId, details }
}

/** What a sentence for people must never contain: dotted type names, snake_case or camelCase keys, JSON. */
const JARGON = /[a-z]+\.[a-z_]+\.|[a-z]+_[a-z]+|[a-z][A-Z][a-z]|[{}[\]"]|\b(true|false|null|undefined)\b/

describe('audit sentences', () => {
  it.each(AUDIT_EVENT_TYPES)('%s has a sentence', (type) => {
    expect(hasAuditSentence(type)).toBe(true)
  })

  it.each(AUDIT_EVENT_TYPES)('%s reads as a sentence without jargon, with and without details', (type) => {
    for (const details of [{}, { count: 2, reason: 'bad_password', previous: { policy: 'optional', minRole: null }, policy: 'required', isReEnrollment: false }]) {
      const sentence = describeAuditEvent(event(type, details), lookup)
      expect(sentence).toMatch(/^[A-Z].*[.)]$/)
      expect(sentence).not.toMatch(JARGON)
    }
  })

  it('names the people involved and what changed', () => {
    expect(describeAuditEvent(event('user.role_changed', { from: 'member', to: 'admin' }), lookup)).toBe('Ada Admin changed Max Member’s role from Member to Admin.')
    expect(describeAuditEvent(event('session.revoked_all', { count: 2, byAdmin: true }), lookup)).toBe('Ada Admin signed out every session of Max Member (2 sessions).')
    expect(describeAuditEvent(event('session.revoked_all', { count: 1 }, 'max', 'max'), lookup)).toBe('Max Member signed out all their other sessions (1 session).')
    expect(describeAuditEvent(event('session.revoked_all', { count: 3, byOperator: true }, null, 'max'), lookup)).toBe('An operator signed out every session of Max Member (3 sessions).')
    expect(describeAuditEvent(event('mfa.enrolled', { isReEnrollment: false, otherSessionsRevoked: 0 }, 'max', 'max'), lookup)).toBe('Max Member turned on two-factor authentication.')
    expect(describeAuditEvent(event('mfa.enrolled', { isReEnrollment: true, otherSessionsRevoked: 2 }, 'max', 'max'), lookup)).toBe(
      'Max Member moved two-factor authentication to a new authenticator app. 2 other sessions were signed out.',
    )
  })

  it('names an operator (the CLI) as the actor, not "the system"', () => {
    expect(describeAuditEvent(event('mfa.reset_by_admin', { sessionsRevoked: 1, byOperator: true }, null, 'max'), lookup)).toBe(
      'An operator reset the two-factor authentication of Max Member. 1 session was signed out.',
    )
    expect(describeAuditEvent(event('user.role_changed', { from: 'member', to: 'admin', byOperator: true }, null, 'max'), lookup)).toBe('An operator changed Max Member’s role from Member to Admin.')
  })

  it('says why a code was refused, for each reason the MFA challenge records', () => {
    expect(describeAuditEvent(event('mfa.verify.failed', { factor: 'totp', reason: 'invalid-code' }, 'max', 'max'), lookup)).toBe('An authenticator code for Max Member was refused (wrong code).')
    expect(describeAuditEvent(event('mfa.verify.failed', { factor: 'totp', reason: 'replayed' }, 'max', 'max'), lookup)).toBe(
      'An authenticator code for Max Member was refused (a code that had already been used).',
    )
  })

  it('describes an MFA policy change with the previous policy, not as JSON', () => {
    const sentence = describeAuditEvent(
      event('organization.mfa_policy_changed', { previous: { policy: 'optional', minRole: null }, policy: 'required_for_role', minRole: 'admin' }, 'ada', null),
      lookup,
    )
    expect(sentence).toBe('Ada Admin made two-factor authentication required for admins and above (it was optional).')
  })

  it('names the sign-in method and second factor in words', () => {
    expect(describeAuditEvent(event('auth.sign_in.succeeded', { method: 'oidc', mfa: 'totp' }, 'max', 'max'), lookup)).toBe(
      'Max Member signed in through single sign-on (OIDC) with an authenticator code.',
    )
    expect(describeAuditEvent(event('auth.sign_in.succeeded', { method: 'magic_link' }, 'max', 'max'), lookup)).toBe('Max Member signed in.')
  })

  it('says why a sign-in failed in words', () => {
    expect(describeAuditEvent(event('auth.sign_in.failed', { reason: 'bad_password' }, null, 'max'), lookup)).toBe('A sign-in as Max Member failed (wrong password).')
    expect(describeAuditEvent(event('auth.sign_in.failed', { reason: 'something_new' }, null, 'max'), lookup)).toBe('A sign-in as Max Member failed.')
  })

  it('says whom a lockout refused, and why authenticator codes were blocked (ADR 016)', () => {
    expect(describeAuditEvent(event('account.locked', { scope: 'untrusted_clients' }, null, 'max'), lookup)).toMatch(/^Sign-ins to the account of Max Member from browsers it was never used on were paused/)
    expect(describeAuditEvent(event('account.locked', { scope: 'known_device' }, null, 'max'), lookup)).toMatch(/from one of its own browsers/)
    expect(describeAuditEvent(event('account.locked', {}, null, 'max'), lookup)).toBe('The account of Max Member was locked for a while after repeated failed sign-ins.')
    expect(describeAuditEvent(event('mfa.locked', { failures: 100 }, null, 'max'), lookup)).toBe(
      'Authenticator codes for Max Member were blocked after 100 wrong codes in a row, until a recovery code is used or an admin resets two-factor authentication.',
    )
  })

  it('names someone it cannot find as outside the organization', () => {
    expect(describeAuditEvent(event('user.disabled', { sessionsRevoked: 1 }, 'ghost', 'max'), lookup)).toBe(
      'Someone outside your organization disabled the account of Max Member. 1 session was signed out.',
    )
  })

  it('an event type this build does not know still reads as a sentence', () => {
    expect(describeAuditEvent(event('future.thing_happened'), lookup)).toBe('A security event this version of the console cannot describe yet.')
  })
})
