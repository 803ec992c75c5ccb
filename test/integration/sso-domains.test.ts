/**
 * Domain verification against a real DNS server (dnsmasq on loopback, `test/support/dns-server.ts`).
 *
 * Attacks covered: claiming a domain one does not control (the TXT value must match this claim's
 * token, not any `gatehouse-verification=` value); taking over another tenant's verified domain
 * (a domain is verified for at most one organization: the unique `verified_domain`); a verification
 * of `acme.test` stretched to `eu.acme.test` (exact scope); a flood of checks (per-organization limit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { startTestDnsServer, type TestDnsServer, type TxtRecord } from '../support/dns-server'
import {
  addOrganizationDomain,
  DomainError,
  getDomainVerificationRecord,
  getOrganizationDomain,
  getVerifiedDomain,
  removeOrganizationDomain,
  setDomainConnection,
  verifyOrganizationDomainByDns,
  verifyOrganizationDomainByOperator,
} from '../../src/server/sso/domains'
import type { OrganizationDomain } from '../../db/schema'
import appConfig from '../../app.config'
import { createTestOrganization, sql, tableChecksums } from '../support/auth-fixtures'
import { auditEventsOfType, createTestOidcConnection, OPERATOR_ACTOR, runCli } from '../support/sso-fixtures'

let dns: TestDnsServer
/** Every record currently published; tests add theirs and restart dnsmasq. */
const published: TxtRecord[] = []

async function publish(...records: TxtRecord[]): Promise<void> {
  published.push(...records)
  await dns.setRecords(published)
}

function deps() {
  return { db: getDb(), now: now(), actor: OPERATOR_ACTOR, dnsServers: [dns.server] }
}

function recordFor(claim: OrganizationDomain): TxtRecord {
  const record = getDomainVerificationRecord(claim)
  return { name: record.name, strings: [record.value] }
}

beforeAll(async () => {
  dns = await startTestDnsServer()
})

afterAll(async () => {
  await dns?.stop()
})

describe('DNS TXT verification', () => {
  it('verifies a claim whose TXT record carries its token, and audits it', async () => {
    const organization = await createTestOrganization()
    const claim = await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'Right.Test.' })
    expect(claim).toMatchObject({ domain: 'right.test', verifiedAt: null, verifiedDomain: null })
    // ≥ 128 bits: 20 random bytes as 32 base32 characters.
    expect(claim.verificationToken).toMatch(/^[a-z2-7]{32}$/)
    expect(getDomainVerificationRecord(claim)).toEqual({ name: '_gatehouse-verification.right.test', type: 'TXT', value: `gatehouse-verification=${claim.verificationToken}` })
    // Other TXT records at the name (an SPF-like string) do not disturb the check.
    await publish(recordFor(claim), { name: '_gatehouse-verification.right.test', strings: ['v=spf1 -all'] })

    const result = await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'right.test' })
    expect(result.outcome).toBe('verified')
    expect(result.domain).toMatchObject({ verifiedBy: 'dns', verifiedDomain: 'right.test', lastCheckResult: 'verified' })
    expect(result.domain.verifiedAt).toBeInstanceOf(Date)
    expect((await getVerifiedDomain(getDb(), 'right.test'))?.organizationId).toBe(organization.id)
    const [event] = (await auditEventsOfType('domain.verified')).filter((e) => e.organizationId === organization.id)
    expect(event!.details).toMatchObject({ domain: 'right.test', method: 'dns', byOperator: true })
  })

  it('joins a value split into several character-strings (DNS chunks) before comparing', async () => {
    const organization = await createTestOrganization()
    const claim = await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'chunked.test' })
    const value = getDomainVerificationRecord(claim).value
    await publish({ name: `_gatehouse-verification.chunked.test`, strings: [value.slice(0, 20), value.slice(20)] })
    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'chunked.test' })).outcome).toBe('verified')
  })

  it('refuses a record with another value (wrong_value), keeps the claim pending and audits the reason', async () => {
    const organization = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'wrong.test' })
    await publish({ name: '_gatehouse-verification.wrong.test', strings: ['gatehouse-verification=someoneelsestoken'] })

    const result = await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'wrong.test' })
    expect(result.outcome).toBe('wrong_value')
    expect(result.domain).toMatchObject({ verifiedAt: null, verifiedDomain: null, lastCheckResult: 'wrong_value' })
    const events = (await auditEventsOfType('domain.verification_failed')).filter((e) => e.organizationId === organization.id)
    expect(events.map((e) => e.details.reason)).toEqual(['wrong_value'])
  })

  it('reports no_record when nothing is published (and when only unrelated TXT strings are)', async () => {
    const organization = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'missing.test' })
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'unrelated.test' })
    await publish({ name: '_gatehouse-verification.unrelated.test', strings: ['hello'] })
    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'missing.test' })).outcome).toBe('no_record')
    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'unrelated.test' })).outcome).toBe('no_record')
    expect(await getVerifiedDomain(getDb(), 'missing.test')).toBeNull()
  })

  it('reports dns_error, quickly, when the resolver is down', async () => {
    const organization = await createTestOrganization()
    const claim = await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'down.test' })
    await publish(recordFor(claim))
    await dns.stop()
    try {
      const startedAt = Date.now()
      const result = await verifyOrganizationDomainByDns({ ...deps(), dnsTimeoutMs: 1000 }, { organizationId: organization.id, domain: 'down.test' })
      expect(result.outcome).toBe('dns_error')
      expect(Date.now() - startedAt).toBeLessThan(2000)
      expect(result.domain.verifiedAt).toBeNull()
      const [event] = (await auditEventsOfType('domain.verification_failed')).filter((e) => e.organizationId === organization.id)
      expect(event!.details).toMatchObject({ reason: 'dns_error' })
      expect(event!.details.resolverError).toEqual(expect.any(String))
    } finally {
      await dns.setRecords(published)
    }
    // Back up: the same claim verifies.
    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'down.test' })).outcome).toBe('verified')
  })

  it('limits checks per organization (rateLimits.domainVerificationPerOrganization)', async () => {
    const organization = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'flood.test' })
    const { limit } = appConfig.rateLimits.domainVerificationPerOrganization
    for (let index = 0; index < limit; index++) {
      expect((await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'flood.test' })).outcome).toBe('no_record')
    }
    const refused = await verifyOrganizationDomainByDns(deps(), { organizationId: organization.id, domain: 'flood.test' })
    expect(refused.outcome).toBe('rate_limited')
    expect(refused.retryAfterSeconds).toBeGreaterThan(0)
    // Another organization has its own budget.
    const other = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: other.id, domain: 'flood.test' })
    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: other.id, domain: 'flood.test' })).outcome).toBe('no_record')
  })
})

describe('one organization per verified domain', () => {
  it("keeps a second organization's claim pending while the first holds the domain, even with its own valid record", async () => {
    const first = await createTestOrganization()
    const second = await createTestOrganization()
    const firstClaim = await addOrganizationDomain(deps(), { organizationId: first.id, domain: 'shared.test' })
    // A pending claim by another organization is allowed (so the rightful owner can claim it too).
    const secondClaim = await addOrganizationDomain(deps(), { organizationId: second.id, domain: 'shared.test' })
    await publish(recordFor(firstClaim), recordFor(secondClaim))

    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: first.id, domain: 'shared.test' })).outcome).toBe('verified')
    const contested = await verifyOrganizationDomainByDns(deps(), { organizationId: second.id, domain: 'shared.test' })
    expect(contested.outcome).toBe('claimed_elsewhere')
    expect(contested.domain).toMatchObject({ verifiedAt: null, verifiedDomain: null, lastCheckResult: 'claimed_elsewhere' })
    // The operator's word does not override it either.
    expect((await verifyOrganizationDomainByOperator(deps(), { organizationId: second.id, domain: 'shared.test' })).outcome).toBe('claimed_elsewhere')
    expect((await getVerifiedDomain(getDb(), 'shared.test'))?.organizationId).toBe(first.id)

    // Once the first organization lets go, the second can verify.
    expect(await removeOrganizationDomain(deps(), { organizationId: first.id, domain: 'shared.test' })).toBe(true)
    expect((await verifyOrganizationDomainByDns(deps(), { organizationId: second.id, domain: 'shared.test' })).outcome).toBe('verified')
    expect((await getVerifiedDomain(getDb(), 'shared.test'))?.organizationId).toBe(second.id)
  })

  it('verifies exactly the claimed domain: acme-scope.test does not cover eu.acme-scope.test', async () => {
    const organization = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'acme-scope.test' })
    await verifyOrganizationDomainByOperator(deps(), { organizationId: organization.id, domain: 'acme-scope.test' })
    expect(await getVerifiedDomain(getDb(), 'acme-scope.test')).not.toBeNull()
    expect(await getVerifiedDomain(getDb(), 'eu.acme-scope.test')).toBeNull()
  })

  it('refuses a duplicate claim by the same organization and an invalid name, writing nothing', async () => {
    const organization = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'twice.test' })
    const before = await tableChecksums()
    await expect(addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'TWICE.test' })).rejects.toMatchObject({ reason: 'already_claimed' })
    await expect(addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'https://evil.test/' })).rejects.toBeInstanceOf(DomainError)
    await expect(addOrganizationDomain(deps(), { organizationId: organization.id, domain: '10.0.0.1' })).rejects.toMatchObject({ reason: 'invalid_domain' })
    expect(await tableChecksums()).toEqual(before)
  })

  it('routes a verified domain to a connection of its own organization only, and removing the domain un-routes it', async () => {
    const organization = await createTestOrganization()
    const other = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    const foreignConnection = await createTestOidcConnection(other.id)
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'routed.test' })
    await expect(setDomainConnection(deps(), { organizationId: organization.id, domain: 'routed.test', connectionId: connection.id })).rejects.toMatchObject({ reason: 'not_verified' })
    await verifyOrganizationDomainByOperator(deps(), { organizationId: organization.id, domain: 'routed.test' })
    await expect(setDomainConnection(deps(), { organizationId: organization.id, domain: 'routed.test', connectionId: foreignConnection.id })).rejects.toMatchObject({
      reason: 'connection_not_found',
    })
    const routed = await setDomainConnection(deps(), { organizationId: organization.id, domain: 'routed.test', connectionId: connection.id })
    expect(routed.ssoConnectionId).toBe(connection.id)

    await removeOrganizationDomain(deps(), { organizationId: organization.id, domain: 'routed.test' })
    expect(await getVerifiedDomain(getDb(), 'routed.test')).toBeNull()
    const [removed] = (await auditEventsOfType('domain.removed')).filter((e) => e.organizationId === organization.id)
    expect(removed!.details).toMatchObject({ domain: 'routed.test', wasVerified: true, connectionId: connection.id })
  })
})

describe('CLI', () => {
  it('org:add-domain --verified verifies on the operator\'s word and audits byOperator', { timeout: 60_000 }, async () => {
    const organization = await createTestOrganization()
    const result = await runCli(['org:add-domain', '--org', organization.slug, '--domain', 'CLI-Verified.test', '--verified'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toMatch(/added cli-verified\.test to .*, verified by operator/)
    const claim = await getOrganizationDomain(getDb(), organization.id, 'cli-verified.test')
    expect(claim).toMatchObject({ verifiedBy: 'operator', verifiedDomain: 'cli-verified.test' })
    const [event] = (await auditEventsOfType('domain.verified')).filter((e) => e.organizationId === organization.id)
    expect(event!.details).toMatchObject({ method: 'operator', byOperator: true })
  })

  it('org:verify-domain runs the DNS check through DNS_SERVERS', { timeout: 60_000 }, async () => {
    const organization = await createTestOrganization()
    const added = await runCli(['org:add-domain', '--org', organization.slug, '--domain', 'cli-dns.test'])
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(/publish: _gatehouse-verification\.cli-dns\.test TXT "gatehouse-verification=[a-z2-7]{32}"/)

    const pending = await runCli(['org:verify-domain', '--org', organization.slug, '--domain', 'cli-dns.test'], { env: { DNS_SERVERS: dns.server } })
    expect(pending.code).toBe(1)
    expect(pending.stdout).toMatch(/not verified \(no_record\)/)

    const claim = (await getOrganizationDomain(getDb(), organization.id, 'cli-dns.test'))!
    await publish(recordFor(claim))
    const verified = await runCli(['org:verify-domain', '--org', organization.slug, '--domain', 'cli-dns.test'], { env: { DNS_SERVERS: dns.server } })
    expect(verified).toMatchObject({ code: 0, stdout: 'cli-dns.test: verified\n' })
  })

  it('refuses --verified for a domain another organization holds: exit 2, nothing written', { timeout: 60_000 }, async () => {
    const holder = await createTestOrganization()
    await addOrganizationDomain(deps(), { organizationId: holder.id, domain: 'held.test' })
    await verifyOrganizationDomainByOperator(deps(), { organizationId: holder.id, domain: 'held.test' })
    const organization = await createTestOrganization()
    const before = await tableChecksums()
    const result = await runCli(['org:add-domain', '--org', organization.slug, '--domain', 'held.test', '--verified'])
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/--domain: held\.test is verified by another organization/)
    expect(await tableChecksums()).toEqual(before)
    expect(await sql('SELECT id FROM organization_domains WHERE organization_id = ?', [organization.id])).toHaveLength(0)
  })
})
