/**
 * An organization's OIDC set-up written straight into a database the test process does not own
 * (the built server's, in browser tests and the bench): an enabled connection at the local
 * provider and a verified domain routed to it, through the app's own modules (audited as an
 * operator). The client secret is sealed with this process's APP_SECRET, so the server must be
 * started with the same one (`shareAppSecretWithServer`).
 */
import { randomBytes } from 'node:crypto'
import { createOidcConnection, setSsoConnectionStatus, type SsoConnectionView } from '../../src/server/sso/connections'
import { addOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { resetServerEnvForTests } from '../../src/server/env'
import type { Database } from '../../src/server/db/client'

/** The local provider and the app both run on loopback: the outbound guard must allow it. */
export const LOOPBACK_SSO_HOSTS = '127.0.0.1,localhost'

/**
 * Makes this process seal secrets under a fresh APP_SECRET and returns it, for the server's
 * environment (`startAppServer({ env: { APP_SECRET } })`).
 */
export function shareAppSecretWithServer(): string {
  const appSecret = randomBytes(32).toString('base64url')
  process.env.APP_SECRET = appSecret
  resetServerEnvForTests()
  return appSecret
}

export type OidcTenantSeed = {
  organizationId: string
  issuer: string
  clientId: string
  clientSecret: string
  domain: string
  groupRoleMap?: Record<string, string>
  defaultRole?: string
}

/** Creates the enabled connection and routes the (operator-verified) domain to it. */
export async function seedOidcTenant(db: Database, seed: OidcTenantSeed): Promise<SsoConnectionView> {
  const deps = { db, now: new Date(), actor: { byOperator: true } as const, outboundPolicy: { allowedPrivateHosts: LOOPBACK_SSO_HOSTS.split(',') } }
  const created = await createOidcConnection(deps, {
    organizationId: seed.organizationId,
    displayName: 'Local IdP',
    issuer: seed.issuer,
    clientId: seed.clientId,
    clientSecret: seed.clientSecret,
    scopes: 'openid email profile groups',
    groupRoleMap: seed.groupRoleMap ?? {},
    defaultRole: seed.defaultRole ?? 'member',
  })
  const { connection } = await setSsoConnectionStatus(deps, { connectionId: created.id, status: 'enabled' })
  await addOrganizationDomain(deps, { organizationId: seed.organizationId, domain: seed.domain })
  await verifyOrganizationDomainByOperator(deps, { organizationId: seed.organizationId, domain: seed.domain })
  await setDomainConnection(deps, { organizationId: seed.organizationId, domain: seed.domain, connectionId: connection.id })
  return connection
}
