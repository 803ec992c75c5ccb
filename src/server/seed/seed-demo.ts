/**
 * Server-only, DEVELOPMENT ONLY: seeds the demo data idempotently (existing rows are left alone),
 * so `npm run dev` can run it on every start.
 */
import { and, eq } from 'drizzle-orm'
import { ssoConnections } from '../../../db/schema'
import { hashPassword } from '../auth/password'
import { now } from '../clock'
import type { Database } from '../db/client'
import { createOidcConnection, createSamlConnection, deleteSsoConnection, openOidcClientSecret, setSsoConnectionStatus } from '../sso/connections'
import { normalizeCertificatePem } from '../sso/saml/saml-certificates'
import { addOrganizationDomain, getOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../sso/domains'
import { getSsoOutboundPolicy } from '../sso/outbound-fetch'
import { createOrganization, createUser, getOrganizationBySlug, getUserByEmail } from '../users/users'
import { DEMO_ACCOUNTS, DEMO_ACME_OIDC, DEMO_GLOBEX_SAML, DEMO_ORGANIZATIONS } from './demo-accounts'

/** Where the local OIDC provider of `npm run dev` listens, and the client secret it generated. */
export type DemoOidcProvider = { issuer: string; clientSecret: string }

/** The local SAML IdP of `npm run dev`: its metadata URL (the seed imports from it) and what it signs with. */
export type DemoSamlIdp = { metadataUrl: string; entityId: string; certificatePem: string }

export type SeedResult = {
  organizations: number
  users: number
  /** The Acme connection's id (the dev IdP registers its redirect URI), or null when no IdP was given. */
  acmeConnectionId: string | null
  /** The Globex SAML connection's id, or null when no SAML IdP was given. */
  globexConnectionId: string | null
}

/**
 * Creates whatever demo organizations and password users are missing; with `oidcProvider`, also
 * Acme's verified domain routed to an enabled OIDC connection at that provider. SSO accounts are
 * not inserted: their first sign-in provisions them, as in production.
 */
export async function seedDemo(db: Database, options: { oidcProvider?: DemoOidcProvider; samlIdp?: DemoSamlIdp } = {}): Promise<SeedResult> {
  if (process.env.NODE_ENV === 'production') throw new Error('the demo seed never runs in production')
  let addedOrganizations = 0
  let addedUsers = 0
  const organizationIds = new Map<string, string>()
  for (const demo of DEMO_ORGANIZATIONS) {
    const existing = await getOrganizationBySlug(db, demo.slug)
    const organization = existing ?? (await createOrganization(db, { name: demo.name, slug: demo.slug }))
    if (!existing) addedOrganizations++
    organizationIds.set(demo.slug, organization.id)
  }
  for (const account of DEMO_ACCOUNTS) {
    if (account.signInMethod !== 'password') continue
    if (await getUserByEmail(db, account.email)) continue
    await createUser(db, {
      email: account.email,
      name: account.name,
      passwordHash: await hashPassword(account.password),
      role: account.role,
      organizationId: organizationIds.get(account.organizationSlug) ?? null,
      emailVerifiedAt: new Date(),
    })
    addedUsers++
  }
  const acmeId = organizationIds.get(DEMO_ACME_OIDC.organizationSlug)
  const acmeConnectionId = options.oidcProvider && acmeId ? await seedAcmeOidc(db, acmeId, options.oidcProvider) : null
  const globexId = organizationIds.get(DEMO_GLOBEX_SAML.organizationSlug)
  const globexConnectionId = options.samlIdp && globexId ? await seedGlobexSaml(db, globexId, options.samlIdp) : null
  return { organizations: addedOrganizations, users: addedUsers, acmeConnectionId, globexConnectionId }
}

/** Verifies `domain` for the organization (operator) and routes it to the connection. */
async function routeDemoDomain(db: Database, organizationId: string, domainName: string, connectionId: string): Promise<void> {
  const deps = { db, now: now(), actor: { byOperator: true } }
  const domain = (await getOrganizationDomain(db, organizationId, domainName)) ?? (await addOrganizationDomain(deps, { organizationId, domain: domainName }))
  if (!domain.verifiedAt) await verifyOrganizationDomainByOperator(deps, { organizationId, domain: domain.domain })
  if (domain.ssoConnectionId !== connectionId) await setDomainConnection(deps, { organizationId, domain: domain.domain, connectionId })
}

/**
 * Globex's SAML connection, imported from the local IdP's metadata URL as an admin would (through
 * the outbound guard); re-created when the IdP's entity ID or certificate changed (new keys in
 * `.data/`, another port). Then its verified domain and the route.
 */
async function seedGlobexSaml(db: Database, organizationId: string, idp: DemoSamlIdp): Promise<string> {
  const deps = { db, now: now(), actor: { byOperator: true } }
  const [existing] = await db
    .select({ id: ssoConnections.id, entityId: ssoConnections.samlIdpEntityId, certificates: ssoConnections.samlIdpCertificates })
    .from(ssoConnections)
    .where(and(eq(ssoConnections.organizationId, organizationId), eq(ssoConnections.displayName, DEMO_GLOBEX_SAML.connectionName)))
    .limit(1)
  let connectionId = existing?.id ?? null
  const isCurrent = existing && existing.entityId === idp.entityId && (existing.certificates ?? []).includes(normalizeCertificatePem(idp.certificatePem))
  if (existing && !isCurrent) {
    await deleteSsoConnection(deps, { connectionId: existing.id })
    connectionId = null
  }
  if (!connectionId) {
    const connection = await createSamlConnection(
      { ...deps, outboundPolicy: getSsoOutboundPolicy() },
      {
        organizationId,
        displayName: DEMO_GLOBEX_SAML.connectionName,
        idp: { kind: 'metadata_url', url: idp.metadataUrl },
        groupRoleMap: { ...DEMO_GLOBEX_SAML.groupRoleMap },
        defaultRole: DEMO_GLOBEX_SAML.defaultRole,
        status: 'enabled',
      },
    )
    connectionId = connection.id
  } else {
    await setSsoConnectionStatus(deps, { connectionId, status: 'enabled' })
  }
  await routeDemoDomain(db, organizationId, DEMO_GLOBEX_SAML.domain, connectionId)
  return connectionId
}

/** Acme's connection at the local IdP (re-created when the IdP's issuer or secret changed), its verified domain, and the route. */
async function seedAcmeOidc(db: Database, organizationId: string, provider: DemoOidcProvider): Promise<string> {
  const deps = { db, now: now(), actor: { byOperator: true } }
  const [existing] = await db
    .select({ id: ssoConnections.id, issuer: ssoConnections.oidcIssuer })
    .from(ssoConnections)
    .where(and(eq(ssoConnections.organizationId, organizationId), eq(ssoConnections.displayName, DEMO_ACME_OIDC.connectionName)))
    .limit(1)
  let connectionId = existing?.id ?? null
  const isCurrent = existing && existing.issuer === provider.issuer && (await openOidcClientSecret(db, existing.id).catch(() => null)) === provider.clientSecret
  if (existing && !isCurrent) {
    await deleteSsoConnection(deps, { connectionId: existing.id })
    connectionId = null
  }
  if (!connectionId) {
    const connection = await createOidcConnection(
      { ...deps, outboundPolicy: getSsoOutboundPolicy() },
      {
        organizationId,
        displayName: DEMO_ACME_OIDC.connectionName,
        issuer: provider.issuer,
        clientId: DEMO_ACME_OIDC.clientId,
        clientSecret: provider.clientSecret,
        scopes: 'openid email profile groups',
        groupRoleMap: { ...DEMO_ACME_OIDC.groupRoleMap },
        defaultRole: DEMO_ACME_OIDC.defaultRole,
        status: 'enabled',
      },
    )
    connectionId = connection.id
  } else {
    await setSsoConnectionStatus(deps, { connectionId, status: 'enabled' })
  }
  await routeDemoDomain(db, organizationId, DEMO_ACME_OIDC.domain, connectionId)
  return connectionId
}
