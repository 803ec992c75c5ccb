/**
 * The per-instance cache of openid-client Configurations, against the local OIDC provider and its
 * counters: a warm login makes zero discovery and zero JWKS requests; an edit of the connection
 * (`updated_at`) or the TTL makes the next login rediscover; a failed discovery is not cached; the
 * ID-token signature is verified (non-repudiation checks on).
 */
import * as client from 'openid-client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { startLocalOidcProvider, type LocalOidcProvider } from '../../scripts/idp/oidc-provider'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { replaceOidcClientSecret, requireSsoConnection, type SsoConnectionView } from '../../src/server/sso/connections'
import { clearOidcConfigurationCache, getOidcConfiguration } from '../../src/server/sso/oidc/configuration'
import { createTestOrganization } from '../support/auth-fixtures'
import { createTestOidcConnection, OPERATOR_ACTOR } from '../support/sso-fixtures'

const REDIRECT_URI = 'http://localhost:3000/api/auth/oidc/cache-test/callback'
const SECRET = 'configuration-test-secret'
const USER = { email: 'carol@acme.test', password: 'carol-idp-password', name: 'Carol' }

let idp: LocalOidcProvider
let connection: SsoConnectionView

beforeAll(async () => {
  idp = await startLocalOidcProvider({ port: 0, clients: [{ clientId: 'cache-test', clientSecret: SECRET, redirectUris: [REDIRECT_URI] }], users: [USER] })
  const organization = await createTestOrganization()
  connection = await createTestOidcConnection(organization.id, { issuer: idp.issuer, clientId: 'cache-test', clientSecret: SECRET })
})

afterAll(async () => {
  await idp?.stop()
})

beforeEach(() => {
  clearOidcConfigurationCache()
  idp.resetCounters()
  idp.setFaults(null)
})

async function loginWith(config: client.Configuration): Promise<client.IDToken> {
  const pkceCodeVerifier = client.randomPKCECodeVerifier()
  const expectedState = client.randomState()
  const expectedNonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
  })
  const callback = new URL(await signInAtLocalIdp(url, USER))
  return (await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true })).claims()!
}

describe('OIDC configuration cache', () => {
  it('discovers once; warm logins fetch neither discovery nor JWKS', async () => {
    const deps = { db: getDb(), now: now() }
    const [first, concurrent] = await Promise.all([getOidcConfiguration(deps, connection), getOidcConfiguration(deps, connection)])
    expect(concurrent).toBe(first)
    expect((await loginWith(first)).email).toBe(USER.email)
    expect(idp.counters).toMatchObject({ discovery: 1, jwks: 1 })
    for (let index = 0; index < 3; index++) expect((await loginWith(await getOidcConfiguration({ db: getDb(), now: now() }, connection))).email).toBe(USER.email)
    expect(idp.counters).toMatchObject({ discovery: 1, jwks: 1, token: 4 })
  })

  it('rediscovers after an edit of the connection (updated_at) and after the TTL', async () => {
    const config = await getOidcConfiguration({ db: getDb(), now: now() }, connection)
    const later = new Date(now().getTime() + 1000)
    await replaceOidcClientSecret({ db: getDb(), now: later, actor: OPERATOR_ACTOR }, { connectionId: connection.id, clientSecret: SECRET })
    const edited = await requireSsoConnection(getDb(), connection.id)
    const afterEdit = await getOidcConfiguration({ db: getDb(), now: now() }, edited)
    expect(afterEdit).not.toBe(config)
    expect(idp.counters.discovery).toBe(2)
    const afterTtl = await getOidcConfiguration({ db: getDb(), now: new Date(now().getTime() + appConfig.sso.discoveryCacheTtlSeconds * 1000 + 1) }, edited)
    expect(afterTtl).not.toBe(afterEdit)
    expect(idp.counters.discovery).toBe(3)
    connection = edited
  })

  it('verifies the ID-token signature (non-repudiation checks on)', async () => {
    const config = await getOidcConfiguration({ db: getDb(), now: now() }, connection)
    idp.setFaults({ idToken: { signature: 'other_key' } })
    await expect(loginWith(config)).rejects.toThrow()
  })

  it('does not cache a failed discovery: the next login tries again', async () => {
    await expect(getOidcConfiguration({ db: getDb(), now: now(), outboundPolicy: { allowedPrivateHosts: [] } }, connection)).rejects.toMatchObject({ reason: 'private_address' })
    const config = await getOidcConfiguration({ db: getDb(), now: now() }, connection)
    expect(config.serverMetadata().issuer).toBe(idp.issuer)
    expect(idp.counters.discovery).toBe(1)
  })

  it('refuses an issuer the outbound policy no longer allows', async () => {
    await expect(getOidcConfiguration({ db: getDb(), now: now(), outboundPolicy: { allowedPrivateHosts: [] } }, connection)).rejects.toMatchObject({ reason: 'private_address' })
    expect(idp.counters.discovery).toBe(0)
  })
})
