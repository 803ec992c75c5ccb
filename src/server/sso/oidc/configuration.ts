/**
 * Server-only: openid-client `Configuration`s for OIDC connections, cached per instance.
 *
 * A `Configuration` holds the discovery document and its own JWKS cache, so a warm login fetches
 * neither (the bench and the local IdP's counters check this). Entries are keyed by the connection
 * id and versioned by its `updated_at` (any edit, including a secret rotation or a re-enable, makes
 * the next login rediscover), and live `sso.discoveryCacheTtlSeconds` at most. Concurrent logins
 * share one discovery; a failed discovery is not cached.
 *
 * Every request goes through the outbound-fetch guard; plain http is allowed (openid-client's
 * `allowInsecureRequests`) only for a loopback issuer listed in `SSO_ALLOWED_PRIVATE_HOSTS`.
 * `enableNonRepudiationChecks` is always on: without it openid-client does not verify the
 * signature of an ID token received from the token endpoint (FIELD-NOTES).
 */
import * as client from 'openid-client'
import appConfig from '../../../../app.config'
import type { Database } from '../../db/client'
import { openOidcClientSecret, type SsoConnectionView } from '../connections'
import { checkIssuerUrl, createGuardedFetch, getSsoOutboundPolicy, type OutboundPolicy } from '../outbound-fetch'

/** Seconds openid-client waits for one IdP request (its default is 30; the guard caps at 5 s too). */
const OIDC_REQUEST_TIMEOUT_SECONDS = 5

export type OidcConnectionSettings = Pick<SsoConnectionView, 'id' | 'updatedAt' | 'protocol' | 'oidcIssuer' | 'oidcClientId' | 'oidcTokenAuthMethod'>

type CacheEntry = { version: number; expiresAtMs: number; configuration: Promise<client.Configuration> }

const cache = new Map<string, CacheEntry>()

async function discover(db: Database, connection: OidcConnectionSettings, policy: OutboundPolicy): Promise<client.Configuration> {
  if (connection.protocol !== 'oidc' || !connection.oidcIssuer || !connection.oidcClientId) throw new Error(`connection ${connection.id} is not a complete OIDC connection`)
  const { isInsecure } = await checkIssuerUrl(connection.oidcIssuer, policy)
  const secret = await openOidcClientSecret(db, connection.id)
  const authentication = connection.oidcTokenAuthMethod === 'client_secret_post' ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret)
  const configuration = await client.discovery(
    new URL(connection.oidcIssuer),
    connection.oidcClientId,
    { [client.clockTolerance]: appConfig.sso.clockSkewSeconds },
    authentication,
    {
      [client.customFetch]: createGuardedFetch(policy),
      execute: isInsecure ? [client.allowInsecureRequests] : [],
      timeout: OIDC_REQUEST_TIMEOUT_SECONDS,
    },
  )
  client.enableNonRepudiationChecks(configuration)
  return configuration
}

/**
 * The connection's `Configuration`, from this instance's cache when it is fresh (same
 * `updated_at`, within the TTL), else by discovery. Throws what discovery throws (the issuer
 * refused by the guard, an unreachable IdP, metadata whose `issuer` differs from the configured URL).
 */
export function getOidcConfiguration(deps: { db: Database; now: Date; outboundPolicy?: OutboundPolicy }, connection: OidcConnectionSettings): Promise<client.Configuration> {
  const version = connection.updatedAt.getTime()
  const cached = cache.get(connection.id)
  if (cached && cached.version === version && cached.expiresAtMs > deps.now.getTime()) return cached.configuration
  const configuration = discover(deps.db, connection, deps.outboundPolicy ?? getSsoOutboundPolicy())
  const entry: CacheEntry = { version, expiresAtMs: deps.now.getTime() + appConfig.sso.discoveryCacheTtlSeconds * 1000, configuration }
  cache.set(connection.id, entry)
  configuration.catch(() => {
    if (cache.get(connection.id) === entry) cache.delete(connection.id)
  })
  return configuration
}

/** Forgets every cached configuration (tests; a process that wants to drop them all). */
export function clearOidcConfigurationCache(): void {
  cache.clear()
}
