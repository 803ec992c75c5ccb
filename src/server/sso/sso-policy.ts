/**
 * Server-only: an organization's single sign-on policy — whether SSO is mandatory for its verified
 * domains, who the break-glass owner is, and whether the IdP's MFA is trusted (SPEC §6; ADR 014).
 *
 * While SSO is enforced, password sign-in, sign-up and password reset are closed for the
 * organization's domains, except for one break-glass owner who keeps a password and a TOTP factor,
 * so an IdP outage or a broken connection never locks the organization out of its own console.
 * Preconditions make it impossible to turn enforcement on in a state that would lock everyone out.
 */
import { and, eq, inArray, isNotNull, ne } from 'drizzle-orm'
import { organizations, sessions, ssoConnections, users, type Organization, type SsoMfaMode } from '../../../db/schema'
import type { Database } from '../db/client'
import { appError } from '../errors'
import { recordActorAuditEvent, type AuditActor } from './audit-actor'
import { isTestedSinceLastChange } from './connection-doctor'
import { getEmailDomain } from './domain-name'
import { getVerifiedDomain, listOrganizationDomains } from './domains'
import { inOrganizationTransaction, type Transaction } from '../users/organization-lock'

/** What the password paths must do for an email, decided by its domain alone (no account look-up). */
export type DomainSsoRule =
  | { kind: 'none' }
  /** A domain verified by an organization with an enabled connection: no new password accounts. */
  | { kind: 'sso_available'; organizationId: string }
  /** SSO is mandatory: passwords work only for the break-glass owner. */
  | { kind: 'sso_enforced'; organizationId: string; breakGlassUserId: string | null }

/** The SSO rule for `email`'s domain. */
export async function getDomainSsoRule(db: Database, email: string): Promise<DomainSsoRule> {
  const domain = getEmailDomain(email)
  const verified = domain ? await getVerifiedDomain(db, domain) : null
  if (!verified) return { kind: 'none' }
  const [organization] = await db.select().from(organizations).where(eq(organizations.id, verified.organizationId)).limit(1)
  if (!organization) return { kind: 'none' }
  if (organization.ssoEnforcedAt) return { kind: 'sso_enforced', organizationId: organization.id, breakGlassUserId: organization.breakGlassUserId }
  const [enabled] = await db
    .select({ id: ssoConnections.id })
    .from(ssoConnections)
    .where(and(eq(ssoConnections.organizationId, organization.id), eq(ssoConnections.status, 'enabled')))
    .limit(1)
  return enabled ? { kind: 'sso_available', organizationId: organization.id } : { kind: 'none' }
}

/** True when the rule closes the password door for this user (everyone but the break-glass owner). */
export function isPasswordRefusedBySso(rule: DomainSsoRule, userId: string | null): boolean {
  return rule.kind === 'sso_enforced' && (userId === null || userId !== rule.breakGlassUserId)
}

export type SsoPolicy = {
  isEnforced: boolean
  enforcedAt: string | null
  breakGlassUserId: string | null
  mfaMode: SsoMfaMode
}

/** The organization's SSO policy as the console shows it. */
export function toSsoPolicy(organization: Pick<Organization, 'ssoEnforcedAt' | 'breakGlassUserId' | 'ssoMfaMode'>): SsoPolicy {
  return {
    isEnforced: organization.ssoEnforcedAt !== null,
    enforcedAt: organization.ssoEnforcedAt?.toISOString() ?? null,
    breakGlassUserId: organization.breakGlassUserId,
    mfaMode: organization.ssoMfaMode,
  }
}

/** Why enforcement cannot start; each is shown to the owner as a sentence. */
export type EnforcementBlocker = 'no_tested_connection' | 'unrouted_domain' | 'no_verified_domain' | 'break_glass_invalid' | 'actor_not_sso_or_break_glass'

const BLOCKER_MESSAGES: Record<EnforcementBlocker, string> = {
  no_tested_connection: 'Enable at least one connection and run a successful test sign-in since its last change.',
  no_verified_domain: 'Verify at least one domain first.',
  unrouted_domain: 'Route every verified domain to an enabled connection.',
  break_glass_invalid: 'Choose a break-glass owner who has a password and two-factor authentication turned on.',
  actor_not_sso_or_break_glass: 'Sign in through single sign-on first (or as the break-glass owner), so turning this on cannot lock you out.',
}

/** Who changes the policy: an owner from a session (how it signed in matters), or an operator through the CLI (null). */
type PolicyActor = { userId: string; authMethod: string } | null

/**
 * Every precondition of enforcement that does not hold, in the order an owner fixes them:
 * a connection enabled and tested since its last change, every verified domain routed to an enabled
 * connection, a break-glass owner with a password and TOTP, and an acting owner who signed in
 * through SSO in this session or is the break-glass owner.
 */
export async function findEnforcementBlockers(db: Database, organizationId: string, breakGlassUserId: string, actor: PolicyActor): Promise<EnforcementBlocker[]> {
  const blockers: EnforcementBlocker[] = []
  const connections = await db.select().from(ssoConnections).where(eq(ssoConnections.organizationId, organizationId))
  const enabledIds = new Set(connections.filter((connection) => connection.status === 'enabled').map((connection) => connection.id))
  if (!connections.some((connection) => enabledIds.has(connection.id) && isTestedSinceLastChange(connection))) blockers.push('no_tested_connection')

  const verifiedDomains = (await listOrganizationDomains(db, organizationId)).filter((domain) => domain.verifiedAt !== null)
  if (verifiedDomains.length === 0) blockers.push('no_verified_domain')
  else if (verifiedDomains.some((domain) => !domain.ssoConnectionId || !enabledIds.has(domain.ssoConnectionId))) blockers.push('unrouted_domain')

  const [breakGlass] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, breakGlassUserId), eq(users.organizationId, organizationId), eq(users.role, 'owner'), isNotNull(users.passwordHash), isNotNull(users.mfaEnabledAt)))
    .limit(1)
  if (!breakGlass) blockers.push('break_glass_invalid')

  // An operator on the server (CLI) has no session to lock out; an owner must not lock themselves out.
  if (actor) {
    const isSsoSession = actor.authMethod === 'oidc' || actor.authMethod === 'saml'
    if (!isSsoSession && actor.userId !== breakGlassUserId) blockers.push('actor_not_sso_or_break_glass')
  }
  return blockers
}

/** The owner-facing sentence for the first blocker. */
export function describeEnforcementBlocker(blocker: EnforcementBlocker): string {
  return BLOCKER_MESSAGES[blocker]
}

export type SsoPolicyChange = { isEnforced: boolean; breakGlassUserId: string | null; mfaMode: SsoMfaMode }

/**
 * Applies a policy change made by an owner (the caller checked role and re-authentication).
 * Turning enforcement on checks every precondition, then revokes the password sessions of every
 * other member (their passwords stopped working; only the break-glass owner's still does).
 *
 * Runs with the organization row locked (`inOrganizationTransaction`), like every change that can
 * demote, disable or strip the factor of an owner: naming a break-glass owner while someone else
 * demotes them (or resets their MFA) cannot interleave into a break-glass owner who is no owner,
 * and the acting owner is re-read, so one demoted a moment ago by another owner is refused.
 */
export async function setSsoPolicy(
  deps: { db: Database; now: Date; actor: AuditActor },
  target: { organizationId: string; actingUser: PolicyActor },
  change: SsoPolicyChange,
): Promise<SsoPolicy & { passwordSessionsRevoked: number }> {
  const { actingUser: actor } = target
  const { organization, next, isStarting } = await inOrganizationTransaction(deps.db, target.organizationId, async (tx, organization) => {
    if (actor) await refuseUnlessEnabledOwner(tx, organization.id, actor.userId)
    const isStarting = change.isEnforced && organization.ssoEnforcedAt === null
    if (change.isEnforced) {
      if (!change.breakGlassUserId) throw appError('FORBIDDEN', describeEnforcementBlocker('break_glass_invalid'))
      const blockers = await findEnforcementBlockers(tx, organization.id, change.breakGlassUserId, actor)
      if (blockers.length > 0) throw appError('FORBIDDEN', describeEnforcementBlocker(blockers[0]!))
    }
    const next = {
      ssoEnforcedAt: change.isEnforced ? (organization.ssoEnforcedAt ?? deps.now) : null,
      breakGlassUserId: change.breakGlassUserId ?? organization.breakGlassUserId,
      ssoMfaMode: change.mfaMode,
    }
    await tx.update(organizations).set(next).where(eq(organizations.id, organization.id))
    return { organization, next, isStarting }
  })
  const passwordSessionsRevoked = isStarting ? await revokeOtherMembersPasswordSessions(deps.db, organization.id, actor?.userId ?? null) : 0
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'organization.sso_policy_changed',
    organizationId: organization.id,
    details: {
      previous: toSsoPolicy(organization),
      isEnforced: change.isEnforced,
      breakGlassUserId: next.breakGlassUserId,
      mfaMode: change.mfaMode,
      // Not "password…": the audit key check refuses key names that look like secrets.
      signedOutSessions: passwordSessionsRevoked,
    },
  })
  return { ...toSsoPolicy({ ...organization, ...next }), passwordSessionsRevoked }
}

/** Refuses unless `userId` is, now, an enabled owner of the organization (the session's role was read before the lock). */
async function refuseUnlessEnabledOwner(tx: Transaction, organizationId: string, userId: string): Promise<void> {
  const [row] = await tx
    .select({ role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.organizationId, organizationId)))
    .for('update')
  if (!row || row.disabledAt) throw appError('UNAUTHENTICATED')
  if (row.role !== 'owner') throw appError('FORBIDDEN', 'Your role has changed: only an owner can change the single sign-on policy. Reload the page.')
}

/** Deletes the password sessions of every member but `actorUserId` (every member for an operator); returns how many. */
async function revokeOtherMembersPasswordSessions(db: Database, organizationId: string, actorUserId: string | null): Promise<number> {
  const members = await db
    .select({ id: users.id })
    .from(users)
    .where(actorUserId ? and(eq(users.organizationId, organizationId), ne(users.id, actorUserId)) : eq(users.organizationId, organizationId))
  if (members.length === 0) return 0
  const [result] = await db.delete(sessions).where(and(eq(sessions.authMethod, 'password'), inArray(sessions.userId, members.map((member) => member.id))))
  return result.affectedRows
}

/** The organization, when SSO is mandatory for it; null otherwise. */
async function getEnforcedOrganization(db: Database, organizationId: string): Promise<Organization | null> {
  const [organization] = await db.select().from(organizations).where(eq(organizations.id, organizationId)).limit(1)
  return organization?.ssoEnforcedAt ? organization : null
}

/** A change to the organization's SSO set-up that could strand its members while SSO is mandatory. */
export type SsoSetupChange = { disablesConnectionId: string } | { routesDomain: string; toConnectionId: string | null } | { removesDomain: string }

/**
 * While SSO is mandatory, refuses a change after which some verified domain would route to no
 * enabled connection: its members could use neither a password (refused) nor SSO (gone), and the
 * organization would be locked out by a routine console click. The owner turns enforcement off first.
 */
export async function refuseIfEnforcementWouldStrandMembers(db: Database, organizationId: string, change: SsoSetupChange): Promise<void> {
  if (!(await getEnforcedOrganization(db, organizationId))) return
  const connections = await db.select({ id: ssoConnections.id, status: ssoConnections.status }).from(ssoConnections).where(eq(ssoConnections.organizationId, organizationId))
  const enabled = new Set(connections.filter((connection) => connection.status === 'enabled' && !('disablesConnectionId' in change && change.disablesConnectionId === connection.id)).map((connection) => connection.id))
  const domains = (await listOrganizationDomains(db, organizationId)).filter((domain) => domain.verifiedAt !== null)
  const isStranded = domains.some((domain) => {
    // Removing a verified domain strands its SSO-only members too: they have no password to fall back on.
    if ('removesDomain' in change && change.removesDomain === domain.domain) return true
    const routedTo = 'routesDomain' in change && change.routesDomain === domain.domain ? change.toConnectionId : domain.ssoConnectionId
    return !routedTo || !enabled.has(routedTo)
  })
  if (isStranded) throw appError('FORBIDDEN', 'Single sign-on is mandatory: every verified domain must stay routed to an enabled connection. Turn mandatory SSO off first, or route the domains elsewhere.')
}

const BREAK_GLASS_MESSAGE = 'This is the break-glass owner while single sign-on is mandatory. Name another break-glass owner (or turn mandatory SSO off) first.'

/**
 * While SSO is mandatory, the break-glass owner is the way back in when the IdP fails: nobody may
 * demote or disable them, reset their second factor, and they may not turn it off themselves.
 * Decided on the row `inOrganizationTransaction` locked, so a concurrent policy change cannot name
 * them break-glass owner between this check and the change.
 */
export function refuseIfBreakGlassOwner(organization: Pick<Organization, 'ssoEnforcedAt' | 'breakGlassUserId'>, userId: string): void {
  if (organization.ssoEnforcedAt && organization.breakGlassUserId === userId) throw appError('FORBIDDEN', BREAK_GLASS_MESSAGE)
}
