/**
 * Server-only: what happens once an identity provider has vouched for someone — the same for OIDC
 * and SAML (SPEC §6; ADR 014). The protocol modules validate the response and hand over claims;
 * this module decides which account they mean, links or provisions it, maps the role, applies the
 * organization's MFA rule and ends in the one sign-in completion.
 *
 * The rules, each defending against a named attack:
 * - Only the connection's organization is ever touched: an IdP of tenant A cannot sign anyone into
 *   tenant B, nor create accounts there (cross-tenant account takeover).
 * - An identity is (connection, subject). An email change at the IdP never moves it to another
 *   account (account takeover through a renamed IdP user).
 * - Linking to an existing account, and creating one, happen only for an email at a domain verified
 *   for the connection's organization, asserted as verified by the IdP (OIDC `email_verified`;
 *   SAML through the domain rule alone). Otherwise any IdP could claim any address.
 * - An account whose email was never verified may have been registered by someone else first
 *   (pre-hijacking): its password, second factor and sessions are removed before it is linked.
 * - A connection signs in no account whose role is above the connection's ceiling (the highest role
 *   its mapping can give, never above its editor's own): an admin who registers an IdP of their own
 *   cannot sign in as an owner, nor demote one through the group mapping (vertical escalation).
 */
import { and, eq } from 'drizzle-orm'
import { organizations, ssoIdentities, users, type Organization, type SsoFlowValidatedResult, type User } from '../../../db/schema'
import { runAuditedTransaction, type AuditedTransaction, type AuditEventInput } from '../audit/audit-log'
import { requestAuditEvent } from '../audit/request-audit'
import { disableTotp } from '../auth/mfa'
import { invalidateUserSessions } from '../auth/session'
import { completeSignIn, type SignInResult } from '../auth/sign-in-completion'
import { generateId } from '../ids'
import type { RequestContext } from '../request-context'
import { createUser, getUserByEmail, isDuplicateKeyError } from '../users/users'
import { decideIdpMfa } from './assurance'
import type { SsoConnectionView } from './connections'
import { getEmailDomain } from './domain-name'
import { getVerifiedDomain } from './domains'
import { decideSsoRole } from './role-mapping'
import { getSsoConnectionRoleCeiling } from '../../lib/member-permissions'
import { roleRank } from '../../lib/roles'

/**
 * What a protocol module extracts from a validated IdP response: `subject` (OIDC `sub` / SAML
 * NameID, the identity's key at this connection), the email normalised (or null), whether the IdP
 * verified it (OIDC `email_verified === true`; always false for SAML, where the verified domain
 * decides), name, groups, the asserted assurance (`amr` / `acr` or `AuthnContextClassRef`), and when
 * the IdP last authenticated the user (step-up needs it). The same shape, with the time as text, is
 * what the SAML ACS keeps on the flow row between its two steps (`SsoFlowValidatedResult`).
 */
export type SsoClaims = Omit<SsoFlowValidatedResult['claims'], 'authTime'> & { authTime: Date | null }

/** Why an SSO sign-in was refused: the `reason` of the `sso.sign_in.failed` event. */
export type SsoRefusalReason =
  | 'connection_disabled'
  | 'user_disabled'
  | 'user_in_other_organization'
  | 'email_missing'
  | 'email_not_verified'
  | 'domain_not_verified'
  | 'role_above_connection'

/** A refusal the callback turns into a 4xx page and one audit event. */
export class SsoSignInRefusal extends Error {
  override name = 'SsoSignInRefusal'
  constructor(
    readonly reason: SsoRefusalReason,
    /** The account concerned, when one was identified (for the audit event's subject). */
    readonly userId: string | null = null,
  ) {
    super(`single sign-on refused: ${reason}`)
  }
}

type SsoConnectionForSignIn = Pick<
  SsoConnectionView,
  'id' | 'organizationId' | 'protocol' | 'status' | 'displayName' | 'groupRoleMap' | 'defaultRole' | 'mfaAmrValues' | 'mfaAcrValues'
>

type ResolvedUser = { user: User; outcome: 'existing' | 'linked' | 'provisioned' }

const MAX_NAME_LENGTH = 120

async function requireOrganization(ctx: RequestContext, organizationId: string): Promise<Organization> {
  const [organization] = await ctx.db.select().from(organizations).where(eq(organizations.id, organizationId)).limit(1)
  if (!organization) throw new Error(`organization ${organizationId} of a connection does not exist`)
  return organization
}

/** The user an identity (connection, subject) is linked to, or null. */
export async function findSsoIdentityUser(ctx: Pick<RequestContext, 'db'>, connectionId: string, subject: string): Promise<User | null> {
  const [row] = await ctx.db
    .select({ user: users })
    .from(ssoIdentities)
    .innerJoin(users, eq(users.id, ssoIdentities.userId))
    .where(and(eq(ssoIdentities.connectionId, connectionId), eq(ssoIdentities.subject, subject)))
    .limit(1)
  return row?.user ?? null
}

/** True when the email's domain is verified for exactly this organization. */
async function isEmailDomainVerifiedFor(ctx: RequestContext, email: string, organizationId: string): Promise<boolean> {
  const domain = getEmailDomain(email)
  if (!domain) return false
  const verified = await getVerifiedDomain(ctx.db, domain)
  return verified?.organizationId === organizationId
}

function displayNameFor(claims: SsoClaims, email: string): string {
  const name = claims.name?.trim()
  return (name || email.slice(0, email.indexOf('@'))).slice(0, MAX_NAME_LENGTH)
}

/**
 * Thrown inside a link or an account creation that lost a race — another request linked this
 * subject, created this email or changed the account first: it rolls the whole transaction back,
 * and the caller resolves again.
 */
class LostSignInRace extends Error {
  override name = 'LostSignInRace'
}

/** Links (connection, subject) to `userId` in `tx`; throws `LostSignInRace` when another request linked this subject first. */
async function insertIdentity(tx: AuditedTransaction, now: Date, connectionId: string, subject: string, userId: string): Promise<void> {
  try {
    await tx.insert(ssoIdentities).values({ id: generateId(), connectionId, subject, userId, createdAt: now, lastSignInAt: null })
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new LostSignInRace()
    throw error
  }
}

/**
 * Runs a link or an account creation and its audit event as one transaction; null when it lost a
 * race (nothing was written then).
 *
 * Why one transaction with the event (`runAuditedTransaction`, ADR 007): as separate statements,
 * a link that lost the race for its identity, or a process that died midway, left an account
 * stripped of its password and moved into the organization without being linked, or an SSO-only
 * account no identity reaches (whose address then blocks provisioning and sign-up). The event is
 * part of the same commit: appended after it, a crash in between would hide a link from the log
 * (a pre-hijacked account losing its factors unrecorded); appended before it, a rolled-back link
 * would be on record as having happened.
 */
async function inIdentityTransaction<T>(ctx: RequestContext, change: (tx: AuditedTransaction) => Promise<{ result: T; event: AuditEventInput }>): Promise<T | null> {
  try {
    return await runAuditedTransaction(ctx.db, change)
  } catch (error) {
    if (error instanceof LostSignInRace) return null
    throw error
  }
}

/**
 * Links an existing account of this organization (or of none) to the identity. An account whose
 * email was never verified loses its password, second factor and sessions first: whoever
 * registered it may not be the mailbox owner the IdP vouches for.
 */
async function linkExistingAccount(ctx: RequestContext, connection: SsoConnectionForSignIn, claims: SsoClaims, found: User): Promise<ResolvedUser | null> {
  return inIdentityTransaction(ctx, async (tx) => {
    // Decided on the row as locked now, not as read before: an account disabled, moved, verified
    // or renamed meanwhile is judged as it is, and a concurrent link of the same account waits.
    const [user] = await tx.select().from(users).where(eq(users.id, found.id)).for('update')
    if (!user || user.email !== found.email) throw new LostSignInRace()
    if (user.organizationId !== null && user.organizationId !== connection.organizationId) throw new SsoSignInRefusal('user_in_other_organization', user.id)
    if (user.disabledAt) throw new SsoSignInRefusal('user_disabled', user.id)
    refuseIfAboveConnection(connection, user)

    const removedSignInFactors = user.emailVerifiedAt === null
    if (removedSignInFactors) {
      await disableTotp(tx, user.id, ctx.now)
      await invalidateUserSessions(tx, user.id)
    }
    const changes = {
      organizationId: connection.organizationId,
      emailVerifiedAt: user.emailVerifiedAt ?? ctx.now,
      ...(removedSignInFactors ? { passwordHash: null, mfaEnabledAt: null } : {}),
      updatedAt: ctx.now,
    }
    await tx.update(users).set(changes).where(eq(users.id, user.id))
    await insertIdentity(tx, ctx.now, connection.id, claims.subject, user.id)
    return {
      result: { user: { ...user, ...changes }, outcome: 'linked' },
      event: requestAuditEvent(ctx, 'sso.identity.linked', {
        subjectUserId: user.id,
        organizationId: connection.organizationId,
        // Not `removedCredentials`: the audit guard refuses key names with "credential" (it throws in
        // development and tests, and redacts the value in production).
        details: { connectionId: connection.id, removedSignInFactors, joinedOrganization: user.organizationId === null },
      }),
    }
  })
}

/** Creates an SSO-only account in the connection's organization (just-in-time provisioning). */
async function provisionAccount(ctx: RequestContext, connection: SsoConnectionForSignIn, claims: SsoClaims, email: string): Promise<ResolvedUser | null> {
  const { role } = decideSsoRole({ groups: claims.groups, mapping: connection, currentRole: null, isBreakGlassUser: false })
  return inIdentityTransaction(ctx, async (tx) => {
    let user: User
    try {
      user = await createUser(tx, {
        email,
        name: displayNameFor(claims, email),
        passwordHash: null,
        role,
        organizationId: connection.organizationId,
        // SAML has no `email_verified`: there the verified domain is the only proof, and it holds.
        emailVerifiedAt: ctx.now,
      })
    } catch (error) {
      // A concurrent first sign-in (or sign-up) created the email meanwhile: resolve again.
      if (isDuplicateKeyError(error)) throw new LostSignInRace()
      throw error
    }
    await insertIdentity(tx, ctx.now, connection.id, claims.subject, user.id)
    return {
      result: { user, outcome: 'provisioned' },
      event: requestAuditEvent(ctx, 'user.provisioned', { subjectUserId: user.id, organizationId: connection.organizationId, details: { connectionId: connection.id, role } }),
    }
  })
}

/** Refuses an account above what the connection may vouch for, before anything is written. */
function refuseIfAboveConnection(connection: SsoConnectionForSignIn, user: User): void {
  if (roleRank(user.role) > roleRank(getSsoConnectionRoleCeiling(connection))) throw new SsoSignInRefusal('role_above_connection', user.id)
}

async function resolveOnce(ctx: RequestContext, connection: SsoConnectionForSignIn, claims: SsoClaims): Promise<ResolvedUser | null> {
  const known = await findSsoIdentityUser(ctx, connection.id, claims.subject)
  if (known) {
    if (known.organizationId !== connection.organizationId) throw new SsoSignInRefusal('user_in_other_organization', known.id)
    if (known.disabledAt) throw new SsoSignInRefusal('user_disabled', known.id)
    // Promoted since the identity was linked (by an owner): this connection no longer vouches for them.
    refuseIfAboveConnection(connection, known)
    return { user: known, outcome: 'existing' }
  }
  if (!claims.email) throw new SsoSignInRefusal('email_missing')
  if (!(await isEmailDomainVerifiedFor(ctx, claims.email, connection.organizationId))) throw new SsoSignInRefusal('domain_not_verified')
  if (connection.protocol === 'oidc' && !claims.isEmailVerifiedByIdp) throw new SsoSignInRefusal('email_not_verified')
  const existing = await getUserByEmail(ctx.db, claims.email)
  return existing ? linkExistingAccount(ctx, connection, claims, existing) : provisionAccount(ctx, connection, claims, claims.email)
}

/** The account these claims mean: the linked identity, an existing account linked now, or a new one. */
export async function resolveSsoUser(ctx: RequestContext, connection: SsoConnectionForSignIn, claims: SsoClaims): Promise<ResolvedUser> {
  // A lost race (the same subject or email created concurrently) is resolved by a second look-up.
  const resolved = (await resolveOnce(ctx, connection, claims)) ?? (await resolveOnce(ctx, connection, claims))
  if (!resolved) throw new Error('single sign-on could not resolve the account after a concurrent change')
  return resolved
}

/** Re-evaluates the role from the IdP's groups at every sign-in (never demoting the break-glass owner). */
async function applyMappedRole(ctx: RequestContext, connection: SsoConnectionForSignIn, organization: Organization, user: User, claims: SsoClaims): Promise<User> {
  const decision = decideSsoRole({ groups: claims.groups, mapping: connection, currentRole: user.role, isBreakGlassUser: organization.breakGlassUserId === user.id })
  if (!decision.isChanged) return user
  // Only over the role this sign-in read: a role changed meanwhile (an owner's promotion in the
  // console) is not silently undone by the IdP's answer.
  const [updated] = await ctx.db
    .update(users)
    .set({ role: decision.role, updatedAt: ctx.now })
    .where(and(eq(users.id, user.id), eq(users.role, user.role)))
  if (updated.affectedRows === 0) {
    const [current] = await ctx.db.select().from(users).where(eq(users.id, user.id)).limit(1)
    if (!current) throw new Error('single sign-on lost the account it was signing in')
    refuseIfAboveConnection(connection, current)
    return current
  }
  await ctx.audit('user.role_changed', {
    subjectUserId: user.id,
    organizationId: organization.id,
    details: { from: user.role, to: decision.role, source: 'idp', connectionId: connection.id },
  })
  return { ...user, role: decision.role }
}

/**
 * Signs in the person the IdP vouched for through `connection`. Throws `SsoSignInRefusal` for
 * every refusal the rules above name; nothing of the session is created then.
 */
export async function completeSsoSignIn(ctx: RequestContext, connection: SsoConnectionForSignIn, claims: SsoClaims): Promise<SignInResult> {
  if (connection.status !== 'enabled') throw new SsoSignInRefusal('connection_disabled')
  const organization = await requireOrganization(ctx, connection.organizationId)
  const { user: resolved, outcome } = await resolveSsoUser(ctx, connection, claims)
  const user = await applyMappedRole(ctx, connection, organization, resolved, claims)
  await ctx.db
    .update(ssoIdentities)
    .set({ lastSignInAt: ctx.now })
    .where(and(eq(ssoIdentities.connectionId, connection.id), eq(ssoIdentities.subject, claims.subject)))

  // No SSO path skips the organization's MFA policy: the IdP's MFA counts only when the
  // organization trusts it and the connection lists what was asserted (ADR 014).
  const mfa = decideIdpMfa(organization.ssoMfaMode, connection, { amr: claims.amr, acr: claims.acr })
  return completeSignIn(ctx, user, {
    authMethod: connection.protocol,
    provenWith: 'idp',
    ssoConnectionId: connection.id,
    mfaSatisfiedAt: mfa.isMfaSatisfiedByIdp ? ctx.now : null,
    mfaMethod: mfa.isMfaSatisfiedByIdp ? 'idp' : null,
    idpAuthnContext: mfa.authnContext,
    isNewAccount: outcome === 'provisioned',
    auditType: 'sso.sign_in.succeeded',
    auditDetails: { connectionId: connection.id, method: connection.protocol, ...(mfa.isMfaSatisfiedByIdp ? { mfa: 'idp' } : {}) },
  })
}
