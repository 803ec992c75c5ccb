/**
 * Server-only: an organization's email domains (SPEC §6). A claim starts pending with a random
 * token; it becomes verified through a DNS TXT record (`dns-verification.ts`) or an operator's
 * word (CLI), and only then can it route sign-ins to an SSO connection.
 *
 * "Verified for at most one organization" is the unique index on `verified_domain`, set only when
 * a claim is verified: a second organization's claim on the same domain stays pending and its
 * verification reports `claimed_elsewhere` (the first verifier keeps it until it removes it).
 * Domain takeover through a lapsed registration is out of scope here; see ADR 014.
 *
 * Functions take plain dependencies (`{ db, now, … }`), so the console's procedures, the CLI and
 * tests call the same code.
 */
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'
import { and, asc, eq, isNull } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { organizationDomains, ssoConnections, type DomainCheckResult, type OrganizationDomain } from '../../../db/schema'
import { consumeRateLimit } from '../auth/rate-limit'
import type { Database } from '../db/client'
import { generateId } from '../ids'
import { isDuplicateKeyError } from '../users/users'
import { recordActorAuditEvent, type AuditActor } from './audit-actor'
import { checkVerificationRecord, verificationRecordName, verificationRecordValue } from './dns-verification'
import { DOMAIN_NAME_PROBLEM_MESSAGES, normalizeDomainName } from './domain-name'

/** 160 random bits: unguessable, so nobody can pre-publish the record for someone else's claim. */
const VERIFICATION_TOKEN_BYTES = 20

export type DomainDeps = {
  db: Database
  now: Date
  actor: AuditActor
}

export type DomainVerificationDeps = DomainDeps & {
  /** Resolvers (`DNS_SERVERS`); empty for the system resolver. */
  dnsServers: readonly string[]
  dnsTimeoutMs?: number
}

/** The TXT record an admin must publish for a claim. */
export type DomainVerificationRecord = { name: string; type: 'TXT'; value: string }

export class DomainError extends Error {
  override name = 'DomainError'
  constructor(
    readonly reason: 'invalid_domain' | 'already_claimed' | 'not_found' | 'not_verified' | 'connection_not_found',
    message: string,
  ) {
    super(message)
  }
}

/** The record to publish for this claim. */
export function getDomainVerificationRecord(domain: Pick<OrganizationDomain, 'domain' | 'verificationToken'>): DomainVerificationRecord {
  return { name: verificationRecordName(domain.domain), type: 'TXT', value: verificationRecordValue(domain.verificationToken) }
}

/** Normalises a domain or throws `DomainError('invalid_domain')` with a message for the admin. */
export function requireDomainName(input: string): string {
  const result = normalizeDomainName(input)
  if ('problem' in result) throw new DomainError('invalid_domain', DOMAIN_NAME_PROBLEM_MESSAGES[result.problem])
  return result.domain
}

/** An organization's claims, oldest first. */
export async function listOrganizationDomains(db: Database, organizationId: string): Promise<OrganizationDomain[]> {
  return db.select().from(organizationDomains).where(eq(organizationDomains.organizationId, organizationId)).orderBy(asc(organizationDomains.createdAt))
}

/** One of the organization's claims by domain, or null (scoped: another org's claim is never returned). */
export async function getOrganizationDomain(db: Database, organizationId: string, domain: string): Promise<OrganizationDomain | null> {
  const [row] = await db
    .select()
    .from(organizationDomains)
    .where(and(eq(organizationDomains.organizationId, organizationId), eq(organizationDomains.domain, domain)))
    .limit(1)
  return row ?? null
}

/** The verified claim on exactly this domain (any organization), or null. Email discovery's look-up. */
export async function getVerifiedDomain(db: Database, domain: string): Promise<OrganizationDomain | null> {
  const [row] = await db.select().from(organizationDomains).where(eq(organizationDomains.verifiedDomain, domain)).limit(1)
  return row ?? null
}

/**
 * Claims a domain for an organization (pending, with a fresh token) and audits `domain.added`.
 * Throws `DomainError` for an invalid name or when this organization already claims it. Another
 * organization's claim, verified or not, does not block a pending claim.
 */
export async function addOrganizationDomain(deps: DomainDeps, input: { organizationId: string; domain: string }): Promise<OrganizationDomain> {
  const domain = requireDomainName(input.domain)
  const tokenBytes = new Uint8Array(VERIFICATION_TOKEN_BYTES)
  crypto.getRandomValues(tokenBytes)
  const row: OrganizationDomain = {
    id: generateId(),
    organizationId: input.organizationId,
    domain,
    verificationToken: encodeBase32LowerCaseNoPadding(tokenBytes),
    verifiedAt: null,
    verifiedBy: null,
    verifiedDomain: null,
    ssoConnectionId: null,
    lastCheckedAt: null,
    lastCheckResult: null,
    createdAt: deps.now,
  }
  try {
    await deps.db.insert(organizationDomains).values(row)
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new DomainError('already_claimed', `the organization already claims ${domain}`)
    throw error
  }
  await recordActorAuditEvent(deps.db, deps.actor, { type: 'domain.added', organizationId: input.organizationId, details: { domain, domainId: row.id } })
  return row
}

export type DomainVerificationOutcome = DomainCheckResult | 'already_verified' | 'rate_limited'

export type DomainVerificationResult = {
  outcome: DomainVerificationOutcome
  domain: OrganizationDomain
  /** For `rate_limited`: when the organization may check again. */
  retryAfterSeconds?: number
}

/**
 * Marks a pending claim verified, unless another organization holds the domain: the unique
 * `verified_domain` refuses the second one, which stays pending. The `verified_at IS NULL`
 * condition makes a double click (or two instances) verify once.
 */
async function markVerified(db: Database, domain: OrganizationDomain, method: 'dns' | 'operator', now: Date): Promise<'verified' | 'claimed_elsewhere' | 'already_verified'> {
  try {
    const [result] = await db
      .update(organizationDomains)
      .set({ verifiedAt: now, verifiedBy: method, verifiedDomain: domain.domain })
      .where(and(eq(organizationDomains.id, domain.id), isNull(organizationDomains.verifiedAt)))
    return result.affectedRows === 1 ? 'verified' : 'already_verified'
  } catch (error) {
    if (isDuplicateKeyError(error)) return 'claimed_elsewhere'
    throw error
  }
}

async function requireClaim(db: Database, organizationId: string, domainInput: string): Promise<OrganizationDomain> {
  const domain = requireDomainName(domainInput)
  const claim = await getOrganizationDomain(db, organizationId, domain)
  if (!claim) throw new DomainError('not_found', `the organization has no claim on ${domain}`)
  return claim
}

async function reload(db: Database, id: string): Promise<OrganizationDomain> {
  const [row] = await db.select().from(organizationDomains).where(eq(organizationDomains.id, id)).limit(1)
  if (!row) throw new DomainError('not_found', 'the domain claim was removed meanwhile')
  return row
}

/**
 * Checks the claim's TXT record and verifies it when the value matches. Rate-limited per
 * organization (`rateLimits.domainVerificationPerOrganization`): each check is an outbound DNS query
 * made on the admin's behalf. Every checked outcome is stored on the claim and audited
 * (`domain.verified`, or `domain.verification_failed` with the reason).
 */
export async function verifyOrganizationDomainByDns(deps: DomainVerificationDeps, input: { organizationId: string; domain: string }): Promise<DomainVerificationResult> {
  const claim = await requireClaim(deps.db, input.organizationId, input.domain)
  if (claim.verifiedAt) return { outcome: 'already_verified', domain: claim }
  const budget = await consumeRateLimit(
    deps.db,
    'domainVerificationPerOrganization',
    appConfig.rateLimits.domainVerificationPerOrganization,
    input.organizationId,
    deps.now,
  )
  if (!budget.isAllowed) return { outcome: 'rate_limited', domain: claim, retryAfterSeconds: budget.retryAfterSeconds }

  const check = await checkVerificationRecord(claim.domain, claim.verificationToken, { servers: deps.dnsServers, timeoutMs: deps.dnsTimeoutMs })
  let outcome: DomainCheckResult = check.outcome
  if (outcome === 'verified') {
    const marked = await markVerified(deps.db, claim, 'dns', deps.now)
    if (marked === 'already_verified') return { outcome: 'already_verified', domain: await reload(deps.db, claim.id) }
    outcome = marked
  }
  await deps.db.update(organizationDomains).set({ lastCheckedAt: deps.now, lastCheckResult: outcome }).where(eq(organizationDomains.id, claim.id))
  const details = { domain: claim.domain, domainId: claim.id, method: 'dns', ...(check.errorCode ? { resolverError: check.errorCode } : {}) }
  if (outcome === 'verified') {
    await recordActorAuditEvent(deps.db, deps.actor, { type: 'domain.verified', organizationId: claim.organizationId, details })
  } else {
    await recordActorAuditEvent(deps.db, deps.actor, { type: 'domain.verification_failed', organizationId: claim.organizationId, details: { ...details, reason: outcome } })
  }
  return { outcome, domain: await reload(deps.db, claim.id) }
}

/**
 * Verifies a claim on an operator's word (CLI `--verified`, `org:add-domain`), with the same
 * "at most one organization" rule: a domain verified elsewhere stays pending here.
 */
export async function verifyOrganizationDomainByOperator(deps: DomainDeps, input: { organizationId: string; domain: string }): Promise<DomainVerificationResult> {
  const claim = await requireClaim(deps.db, input.organizationId, input.domain)
  if (claim.verifiedAt) return { outcome: 'already_verified', domain: claim }
  const marked = await markVerified(deps.db, claim, 'operator', deps.now)
  if (marked === 'already_verified') return { outcome: 'already_verified', domain: await reload(deps.db, claim.id) }
  const details = { domain: claim.domain, domainId: claim.id, method: 'operator' }
  if (marked === 'verified') {
    await recordActorAuditEvent(deps.db, deps.actor, { type: 'domain.verified', organizationId: claim.organizationId, details })
  } else {
    await recordActorAuditEvent(deps.db, deps.actor, { type: 'domain.verification_failed', organizationId: claim.organizationId, details: { ...details, reason: marked } })
  }
  return { outcome: marked, domain: await reload(deps.db, claim.id) }
}

/**
 * Points a verified domain at one of the organization's connections (email discovery follows it),
 * or un-routes it with `connectionId: null`; audited as `domain.routed`.
 */
export async function setDomainConnection(deps: DomainDeps, input: { organizationId: string; domain: string; connectionId: string | null }): Promise<OrganizationDomain> {
  const claim = await requireClaim(deps.db, input.organizationId, input.domain)
  if (!claim.verifiedAt) throw new DomainError('not_verified', `${claim.domain} is not verified; only verified domains route sign-ins`)
  if (input.connectionId) {
    // Tenant binding: only a connection of the same organization, never another's.
    const [connection] = await deps.db
      .select({ id: ssoConnections.id })
      .from(ssoConnections)
      .where(and(eq(ssoConnections.id, input.connectionId), eq(ssoConnections.organizationId, input.organizationId)))
      .limit(1)
    if (!connection) throw new DomainError('connection_not_found', 'no such connection in this organization')
  }
  await deps.db.update(organizationDomains).set({ ssoConnectionId: input.connectionId }).where(eq(organizationDomains.id, claim.id))
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'domain.routed',
    organizationId: claim.organizationId,
    details: { domain: claim.domain, domainId: claim.id, connectionId: input.connectionId },
  })
  return reload(deps.db, claim.id)
}

/** Removes a claim (verified or not), which also un-routes it; audits `domain.removed`. True when it existed. */
export async function removeOrganizationDomain(deps: DomainDeps, input: { organizationId: string; domain: string }): Promise<boolean> {
  const claim = await requireClaim(deps.db, input.organizationId, input.domain)
  const [result] = await deps.db.delete(organizationDomains).where(eq(organizationDomains.id, claim.id))
  if (result.affectedRows === 0) return false
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'domain.removed',
    organizationId: claim.organizationId,
    details: { domain: claim.domain, domainId: claim.id, wasVerified: claim.verifiedAt !== null, connectionId: claim.ssoConnectionId },
  })
  return true
}
