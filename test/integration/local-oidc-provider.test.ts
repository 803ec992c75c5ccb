/**
 * The local OIDC provider (`scripts/idp/oidc-provider.ts`) driven by openid-client 6.9.0 exactly
 * as the app will drive it: discovery through the guarded fetch, authorization code + PKCE (S256)
 * + state + nonce, non-repudiation checks on (ID-token signatures verified), userinfo with the
 * expected subject. Proves the discovery/JWKS counters and the test-only fault switch, so the
 * hostile-callback tests of the sign-in flow can rely on both.
 */
import * as client from 'openid-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startLocalOidcProvider, type LocalOidcProvider } from '../../scripts/idp/oidc-provider'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { createGuardedFetch } from '../../src/server/sso/outbound-fetch'

const CLIENT_ID = 'gatehouse-test'
const CLIENT_SECRET = 'local-test-client-secret'
const REDIRECT_URI = 'http://localhost:3000/api/auth/oidc/testconnection/callback'
const ALICE = { email: 'alice@acme.test', password: 'alice-idp-password', name: 'Alice Admin', groups: ['acme-admins', 'staff'], amr: ['pwd', 'otp'], sub: 'alice-subject' }
const BOB = { email: 'bob@acme.test', password: 'bob-idp-password', name: 'Bob Member', groups: ['staff'], emailVerified: false }

let idp: LocalOidcProvider

beforeAll(async () => {
  idp = await startLocalOidcProvider({ port: 0, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }], users: [ALICE, BOB] })
})

afterAll(async () => {
  await idp?.stop()
})

afterEach(() => {
  idp.setFaults(null)
})

/** Discovery as the app does it: guarded fetch, plain http allowed only because 127.0.0.1 is listed. */
async function discover(): Promise<client.Configuration> {
  const customFetch = createGuardedFetch({ allowedPrivateHosts: ['127.0.0.1', 'localhost'] })
  const config = await client.discovery(new URL(idp.issuer), CLIENT_ID, undefined, client.ClientSecretBasic(CLIENT_SECRET), {
    execute: [client.allowInsecureRequests],
    [client.customFetch]: customFetch,
    timeout: 5,
  })
  client.enableNonRepudiationChecks(config)
  return config
}

/** openid-client's errors say "invalid response encountered"; the specific check is in `cause`. */
async function refusalOf(promise: Promise<unknown>): Promise<string> {
  const error = (await promise.then(
    () => {
      throw new Error('expected a refusal, got success')
    },
    (caught: unknown) => caught,
  )) as Error & { cause?: { message?: string } }
  return `${error.message} / ${error.cause?.message ?? ''}`
}

/** Starts a login, signs in at the IdP, and returns what the callback would see plus the flow's secrets. */
async function login(config: client.Configuration, user: { email: string; password: string } = ALICE, extra: Record<string, string> = {}) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier()
  const expectedState = client.randomState()
  const expectedNonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile groups',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
    ...extra,
  })
  const callbackUrl = new URL(await signInAtLocalIdp(url, user))
  return { callbackUrl, checks: { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true } }
}

describe('local OIDC provider with openid-client', () => {
  it('completes authorization code + PKCE with email, groups and amr in a signature-verified ID token', async () => {
    const config = await discover()
    expect(config.serverMetadata().authorization_response_iss_parameter_supported).toBe(true)
    const { callbackUrl, checks } = await login(config)
    expect(callbackUrl.href.startsWith(`${REDIRECT_URI}?`)).toBe(true)
    expect(callbackUrl.searchParams.get('iss')).toBe(idp.issuer)

    const tokens = await client.authorizationCodeGrant(config, callbackUrl, checks)
    const claims = tokens.claims()!
    expect(claims).toMatchObject({ iss: idp.issuer, sub: 'alice-subject', aud: CLIENT_ID, email: 'alice@acme.test', email_verified: true, name: 'Alice Admin', groups: ['acme-admins', 'staff'], amr: ['pwd', 'otp'] })

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    expect(userinfo).toMatchObject({ sub: 'alice-subject', email: 'alice@acme.test', groups: ['acme-admins', 'staff'] })
  })

  it('asserts email_verified: false when the demo user says so', async () => {
    const config = await discover()
    const { callbackUrl, checks } = await login(config, BOB)
    const claims = (await client.authorizationCodeGrant(config, callbackUrl, checks)).claims()!
    expect(claims).toMatchObject({ email: 'bob@acme.test', email_verified: false, amr: ['pwd'] })
  })

  it('counts discovery and JWKS requests: a cached Configuration fetches neither again', async () => {
    idp.resetCounters()
    const config = await discover()
    const first = await login(config)
    await client.authorizationCodeGrant(config, first.callbackUrl, first.checks)
    expect(idp.counters).toMatchObject({ discovery: 1, jwks: 1, token: 1 })
    const second = await login(config)
    await client.authorizationCodeGrant(config, second.callbackUrl, second.checks)
    expect(idp.counters).toMatchObject({ discovery: 1, jwks: 1, token: 2, authorization: 2 })
  })

  it('requires PKCE from every client', async () => {
    const config = await discover()
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 'x', nonce: 'y' })
    const response = await fetch(url, { redirect: 'manual' })
    const location = new URL(response.headers.get('location')!)
    expect(location.searchParams.get('error')).toBe('invalid_request')
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/)
  })
})

describe('fault switch (NODE_ENV=test only)', () => {
  it.each([
    ['a wrong nonce', { idToken: { claims: { nonce: 'not-the-nonce' } } }, /"nonce" claim/],
    ['another issuer', { idToken: { claims: { iss: 'https://evil.example' } } }, /"iss"/],
    ['another audience', { idToken: { claims: { aud: 'someone-else' } } }, /"aud"/],
    ['an extra audience', { idToken: { claims: { aud: [CLIENT_ID, 'someone-else'] } } }, /"aud"|"azp"/],
    ['an expired ID token', { idToken: { claims: { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 } } }, /"exp"|timestamp/],
    ['alg: none', { idToken: { alg: 'none' as const } }, /"alg" header/],
    ['a corrupted signature', { idToken: { signature: 'corrupt' as const } }, /signature verification failed/],
    ['a signature by another key', { idToken: { signature: 'other_key' as const } }, /signature verification failed/],
  ])('makes openid-client refuse %s in the ID token', async (_label, faults, message) => {
    const config = await discover()
    idp.setFaults(faults)
    const { callbackUrl, checks } = await login(config)
    expect(await refusalOf(client.authorizationCodeGrant(config, callbackUrl, checks))).toMatch(message)
  })

  it.each([
    ['a wrong iss response parameter', { authorizationResponse: { iss: 'https://evil.example' } }, /"iss"/],
    ['a missing iss while advertised', { authorizationResponse: { iss: null } }, /"iss" \(issuer\) missing/],
    ['a wrong state', { authorizationResponse: { state: 'forged-state' } }, /"state" response parameter/],
  ])('makes openid-client refuse %s', async (_label, faults, message) => {
    const config = await discover()
    idp.setFaults(faults)
    const { callbackUrl, checks } = await login(config)
    expect(await refusalOf(client.authorizationCodeGrant(config, callbackUrl, checks))).toMatch(message)
  })

  it('turns a login into error=access_denied with markup in error_description', async () => {
    const config = await discover()
    idp.setFaults({ authorizationResponse: { error: { error: 'access_denied', errorDescription: '<script>alert(1)</script><b>denied</b>' } } })
    const { callbackUrl, checks } = await login(config)
    expect(callbackUrl.searchParams.get('code')).toBeNull()
    expect(callbackUrl.searchParams.get('error_description')).toBe('<script>alert(1)</script><b>denied</b>')
    expect(callbackUrl.searchParams.get('state')).toBe(checks.expectedState)
    const error = await client.authorizationCodeGrant(config, callbackUrl, checks).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(client.AuthorizationResponseError)
    expect((error as client.AuthorizationResponseError).error).toBe('access_denied')
  })

  it('rewrites the userinfo sub, which fetchUserInfo refuses against the expected subject', async () => {
    const config = await discover()
    const { callbackUrl, checks } = await login(config)
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, checks)
    idp.setFaults({ userinfo: { sub: 'someone-else' } })
    expect(await refusalOf(client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub))).toMatch(/"sub"/)
  })

  it('a forged claim re-signed with the real key passes the signature: only the claim is wrong', async () => {
    const config = await discover()
    idp.setFaults({ idToken: { claims: { email: 'mallory@other.test' } } })
    const { callbackUrl, checks } = await login(config)
    expect((await client.authorizationCodeGrant(config, callbackUrl, checks)).claims()!.email).toBe('mallory@other.test')
  })

  it('refuses to start with NODE_ENV=production, and refuses faults outside tests', async () => {
    const previous = process.env.NODE_ENV
    try {
      process.env.NODE_ENV = 'production'
      await expect(startLocalOidcProvider({ port: 0, clients: [], users: [] })).rejects.toThrow(/never runs with NODE_ENV=production/)
      process.env.NODE_ENV = 'development'
      await expect(startLocalOidcProvider({ port: 0, clients: [], users: [], faults: {} })).rejects.toThrow(/only under NODE_ENV=test/)
    } finally {
      process.env.NODE_ENV = previous
    }
  })
})
