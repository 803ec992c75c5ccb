/**
 * Hostile OIDC callbacks against the real local provider (oidc-provider 9 with its test-only fault
 * switch). Every attack below must end the same way: a 4xx page, no session cookie, nothing
 * written to users, identities, sessions, domains, connections or organizations (table
 * checksums), exactly one audit event — `sso.sign_in.failed` with the reason — and the flow spent.
 * Two kinds of refusal leave the flow row as it was, on purpose: a callback whose state names no
 * flow cannot spend anyone's flow, and an expired flow is past use already (the conditional
 * UPDATE requires `expires_at > now`; the purge deletes it). Each group also shows the other side
 * of its rule: the response as the IdP sent it signs in.
 *
 * The attacks and the rules they test:
 * - State and browser binding: login CSRF and "open my callback URL" swaps (RFC 9700 §4.7,
 *   RFC 6749 §10.12, OWASP ASVS 5.0 V10.1.2 and V10.2.1), replayed and concurrent callbacks (the
 *   single-use flow of ADR 014), a code injected under another flow's state or replayed from an
 *   earlier login (RFC 9700 §4.5), a response for one connection redeemed at another's redirect
 *   URI (mix-up, RFC 9700 §4.4, ASVS V10.2.2), an expired flow, a disabled connection, and a
 *   landing page smuggled into the callback URL (open redirect, RFC 9700 §4.11).
 * - ID token validation (OIDC Core §3.1.3.7): nonce (ID token replay, OIDC Core §15.5.2, ASVS
 *   V10.5.1), issuer, audience and `azp` (ASVS V10.5.4: `aud` equals our client id, nothing more),
 *   `alg: none` and forged signatures (RFC 8725 §2.1, §3.1; ASVS V9.1.1, V9.1.2), `exp`/`nbf`
 *   (ASVS V9.2.1), and a userinfo `sub` that is not the ID token's (OIDC Core §5.3.4).
 * - RFC 9207 §2.4: a wrong `iss` authorization response parameter, or none while the IdP
 *   advertises `authorization_response_iss_parameter_supported` (mix-up).
 * - IdP errors (RFC 6749 §4.1.2.1): `error` and `error_description` are attacker-controlled text
 *   (anyone can craft the callback URL) and are never rendered (HTML/content injection).
 * - Tenant binding (ADR 014 linking rule 1, ASVS V10.5.2): a connection of organization A never
 *   signs anyone into organization B, nor creates accounts at B's domain, whatever email or prior
 *   identity its IdP presents.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, now, resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { getSessionCookieName } from '../../src/server/auth/session-cookie'
import { getServerEnv } from '../../src/server/env'
import { generateId } from '../../src/server/ids'
import { setSsoConnectionStatus } from '../../src/server/sso/connections'
import { addOrganizationDomain } from '../../src/server/sso/domains'
import { generateFlowRandomValue, hashFlowValue } from '../../src/server/sso/login-flows'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import type { LocalOidcFaults } from '../../scripts/idp/oidc-provider'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { createTestUser, sql, tableChecksums } from '../support/auth-fixtures'
import { beginSignInAs, deliverCallback, newTestBrowser, startOidcTestbed, type OidcTestbed, type OidcTestTenant, type TestBrowser } from '../support/oidc-fixtures'
import { auditEventsOfType, OPERATOR_ACTOR } from '../support/sso-fixtures'

const DOMAIN_A = 'hostile-a.test'
const DOMAIN_B = 'hostile-b.test'

/** Organization A's own employee: the one the untouched responses sign in. */
const ALICE = { email: `alice@${DOMAIN_A}`, password: 'alice-idp-password', name: 'Alice', sub: 'alice-subject' }
/** A user at A's IdP whose email sits at B's verified domain (A's IdP is hostile, or careless). */
const MALLORY_AS_B = { email: `victim@${DOMAIN_B}`, password: 'mallory-idp-password', name: 'Mallory', sub: 'mallory-subject' }
/** A user at A's IdP whose email (at A's domain) belongs to an account of organization B. */
const BOB_OF_B = { email: `bob@${DOMAIN_A}`, password: 'bob-idp-password', name: 'Bob', sub: 'bob-subject' }
/** A user at A's IdP with an address at B's verified domain that no account holds yet (JIT into the wrong tenant). */
const NEWCOMER_AT_B = { email: `newcomer@${DOMAIN_B}`, password: 'newcomer-idp-password', name: 'Newcomer', sub: 'newcomer-subject' }
/** A user at A's IdP with an address at a domain nobody verified (a public mail provider). */
const PUBLIC_ADDRESS = { email: 'someone@public-mail.test', password: 'public-idp-password', name: 'Someone', sub: 'public-subject' }
/** A user at A's IdP whose identity was linked through A, and whose account later moved to B. */
const CAROL_MOVED = { email: `carol@${DOMAIN_A}`, password: 'carol-idp-password', name: 'Carol', sub: 'carol-subject' }

/** The tables a refused callback must leave exactly as they were. */
const UNTOUCHED_TABLES = ['users', 'sso_identities', 'sessions', 'organization_domains', 'sso_connections', 'organizations'] as const

let testbed: OidcTestbed
let tenantA: OidcTestTenant
let tenantB: OidcTestTenant

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed([ALICE, MALLORY_AS_B, BOB_OF_B, CAROL_MOVED, NEWCOMER_AT_B, PUBLIC_ADDRESS], [{ domain: DOMAIN_A }, { domain: DOMAIN_B }])
  ;[tenantA, tenantB] = testbed.tenants as [OidcTestTenant, OidcTestTenant]
})

afterEach(() => {
  testbed.idp.setFaults(null)
  resetClockForTests()
})

afterAll(async () => {
  await testbed?.stop()
})

type Credentials = { email: string; password: string }

/** A login in progress: the browser that started it, the state the app issued, and the IdP's redirect back. */
type PendingLogin = { browser: TestBrowser; state: string; callbackUrl: string }

/** Email first in `browser` (a fresh one by default), then sign-in at the IdP; the redirect back is not delivered. */
async function startLogin(credentials: Credentials, options: { browser?: TestBrowser; emailForDiscovery?: string; cancelAtIdp?: boolean } = {}): Promise<PendingLogin> {
  const browser = options.browser ?? newTestBrowser()
  const answer = await beginSignInAs(browser, options.emailForDiscovery ?? credentials.email)
  if (answer.next !== 'sso') throw new Error(`expected SSO, got ${answer.next}`)
  const state = new URL(answer.url).searchParams.get('state')!
  const callbackUrl = await signInAtLocalIdp(answer.url, credentials, { cancel: options.cancelAtIdp })
  return { browser, state, callbackUrl }
}

/** `url` with its query parameters changed (null deletes one). */
function withParams(url: string, changes: Record<string, string | null>): string {
  const next = new URL(url)
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) next.searchParams.delete(name)
    else next.searchParams.set(name, value)
  }
  return next.href
}

/** The same response delivered to another connection's redirect URI. */
function atConnection(url: string, connectionId: string): string {
  const next = new URL(url)
  next.pathname = `/api/auth/oidc/${connectionId}/callback`
  return next.href
}

/** The same client address with no cookies at all (no binding cookie). */
function withoutCookies(browser: TestBrowser): TestBrowser {
  return { cookies: new Map(), ip: browser.ip }
}

async function readFlow(state: string): Promise<{ consumed_at: Date | null; expires_at: Date }> {
  const [row] = await sql('SELECT consumed_at, expires_at FROM sso_login_flows WHERE state_hash = ?', [hashFlowValue(state)])
  if (!row) throw new Error('the flow row is gone')
  return row as { consumed_at: Date | null; expires_at: Date }
}

async function guardedChecksums(): Promise<Record<string, string>> {
  const all = await tableChecksums()
  return Object.fromEntries(UNTOUCHED_TABLES.map((table) => [table, all[table]!]))
}

async function auditEventCount(): Promise<number> {
  const [row] = await sql('SELECT COUNT(*) AS n FROM audit_events')
  return Number(row!.n)
}

function sessionCookieSet(response: Response): string | undefined {
  const name = getSessionCookieName(getServerEnv().appUrl)
  return response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`) && !/max-age=0\b/i.test(line))
}

/**
 * What happens to the flow the app issued: `consumed` (spent by this callback or an earlier one),
 * `expired` (past its lifetime, so the conditional UPDATE cannot take it), or `untouched` (the
 * callback named no flow: an unknown state cannot spend a victim's flow either).
 */
type FlowOutcome = 'consumed' | 'expired' | 'untouched'

type Attack = {
  name: string
  reason: string
  /** 400 unless the refusal is about the account (403). */
  status?: number
  flow: FlowOutcome
  /** Sets up the login and returns the hostile delivery, run between the snapshots. */
  prepare: () => Promise<{ state: string; deliver: () => Promise<Response> }>
}

/**
 * Runs one attack and asserts the common outcome: 4xx, no session cookie, guarded tables
 * unchanged, exactly one audit event (`sso.sign_in.failed` with the reason), the flow as expected.
 */
async function expectRefusedAndNothingWritten(attack: Attack): Promise<{ html: string; details: Record<string, unknown> }> {
  const { state, deliver } = await attack.prepare()
  const checksumsBefore = await guardedChecksums()
  const failuresBefore = (await auditEventsOfType('sso.sign_in.failed')).length
  const eventsBefore = await auditEventCount()

  const response = await deliver()
  const html = await response.text()

  expect(response.status, html).toBe(attack.status ?? 400)
  expect(sessionCookieSet(response)).toBeUndefined()
  expect(response.headers.get('location')).toBeNull()
  expect(html).toContain(`Reason code: <code>${attack.reason}</code>`)
  expect(await guardedChecksums()).toEqual(checksumsBefore)
  const failures = (await auditEventsOfType('sso.sign_in.failed')).slice(failuresBefore)
  expect(failures).toHaveLength(1)
  expect(failures[0]!.details).toMatchObject({ reason: attack.reason })
  expect(await auditEventCount()).toBe(eventsBefore + 1)

  const flow = await readFlow(state)
  if (attack.flow === 'consumed') expect(flow.consumed_at).not.toBeNull()
  if (attack.flow === 'untouched') expect(flow.consumed_at).toBeNull()
  if (attack.flow === 'expired') {
    expect(flow.consumed_at).toBeNull()
    // By the app's clock, which the flow store reads (and tests may move).
    expect(flow.expires_at.getTime()).toBeLessThanOrEqual(now().getTime())
  }
  return { html, details: failures[0]!.details }
}

/** The other side of every rule: the response as the IdP sent it, in the browser that started it. */
async function expectSignedIn(login: PendingLogin): Promise<Response> {
  const response = await deliverCallback(login.browser, login.callbackUrl)
  expect(response.status, await response.clone().text()).toBe(303)
  expect(sessionCookieSet(response)).toBeDefined()
  expect((await readFlow(login.state)).consumed_at).not.toBeNull()
  return response
}

describe('the untouched response (the other side of every rule below)', () => {
  it('signs Alice in through A, in the browser that started the flow', async () => {
    await expectSignedIn(await startLogin(ALICE))
  })
})

describe('state and browser binding (login CSRF, replay, mix-up, expiry)', () => {
  const attacks: Attack[] = [
    {
      name: 'a callback without state',
      reason: 'unknown_state',
      flow: 'untouched',
      prepare: async () => {
        const login = await startLogin(ALICE)
        return { state: login.state, deliver: () => deliverCallback(login.browser, withParams(login.callbackUrl, { state: null })) }
      },
    },
    {
      name: 'a callback with a state the app never issued (set by the IdP response)',
      reason: 'unknown_state',
      flow: 'untouched',
      prepare: async () => {
        testbed.idp.setFaults({ authorizationResponse: { state: generateFlowRandomValue() } })
        const login = await startLogin(ALICE)
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    },
    {
      name: "a code with another of the same browser's flows' state (code injection)",
      reason: 'token_invalid',
      flow: 'consumed',
      prepare: async () => {
        const victim = await startLogin(ALICE)
        // A second flow in the same browser: same binding cookie, its own state, PKCE and nonce.
        const other = await beginSignInAs(victim.browser, ALICE.email)
        if (other.next !== 'sso') throw new Error('expected SSO')
        const otherState = new URL(other.url).searchParams.get('state')!
        return { state: otherState, deliver: () => deliverCallback(victim.browser, withParams(victim.callbackUrl, { state: otherState })) }
      },
    },
    {
      name: 'a callback in a browser without the binding cookie (login CSRF)',
      reason: 'browser_mismatch',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE)
        return { state: login.state, deliver: () => deliverCallback(withoutCookies(login.browser), login.callbackUrl) }
      },
    },
    {
      name: "a callback in another browser that holds its own binding (the attacker's URL opened by a victim)",
      reason: 'browser_mismatch',
      flow: 'consumed',
      prepare: async () => {
        const attacker = await startLogin(ALICE)
        const victim = newTestBrowser()
        await beginSignInAs(victim, ALICE.email)
        return { state: attacker.state, deliver: () => deliverCallback(victim, attacker.callbackUrl) }
      },
    },
    {
      name: 'a callback with a forged binding cookie',
      reason: 'browser_mismatch',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE)
        const forged = { cookies: new Map([...login.browser.cookies].map(([name, value]) => [name, name.includes('sso_binding') ? generateFlowRandomValue() : value])), ip: login.browser.ip }
        return { state: login.state, deliver: () => deliverCallback(forged, login.callbackUrl) }
      },
    },
    {
      name: 'a replayed callback in the same browser',
      reason: 'already_consumed',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE)
        await expectSignedIn(login)
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    },
    {
      name: 'a replayed callback in another browser',
      reason: 'already_consumed',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE)
        await expectSignedIn(login)
        return { state: login.state, deliver: () => deliverCallback(newTestBrowser(), login.callbackUrl) }
      },
    },
    {
      name: "a response for A's connection delivered to B's redirect URI (mix-up)",
      reason: 'connection_mismatch',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE)
        return { state: login.state, deliver: () => deliverCallback(login.browser, atConnection(login.callbackUrl, tenantB.connection.id)) }
      },
    },
    {
      name: 'a callback for a flow past its lifetime (expires_at moved in the database)',
      reason: 'expired',
      flow: 'expired',
      prepare: async () => {
        const login = await startLogin(ALICE)
        await sql('UPDATE sso_login_flows SET expires_at = created_at WHERE state_hash = ?', [hashFlowValue(login.state)])
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    },
    {
      name: 'a callback for a flow past its lifetime (the app clock moved past it)',
      reason: 'expired',
      flow: 'expired',
      prepare: async () => {
        const login = await startLogin(ALICE)
        // One second past the flow's lifetime by the app's clock (the flow store's clock; openid-client,
        // which reads the system clock, is never reached).
        advanceClockForTests((appConfig.sso.flowLifetimeSeconds + 1) * 1000)
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    },
  ]

  it.each(attacks.map((attack) => [attack.name, attack] as const))('%s is refused and writes nothing', async (_name, attack) => {
    await expectRefusedAndNothingWritten(attack)
  })

  it('the same callback delivered twice at once signs in exactly once (the conditional UPDATE picks one winner)', async () => {
    const login = await startLogin(ALICE)
    const failuresBefore = (await auditEventsOfType('sso.sign_in.failed')).length
    const responses = await Promise.all([deliverCallback(login.browser, login.callbackUrl), deliverCallback(login.browser, login.callbackUrl)])
    expect(responses.map((response) => response.status).sort()).toEqual([303, 400])
    expect(responses.filter((response) => sessionCookieSet(response))).toHaveLength(1)
    const failures = (await auditEventsOfType('sso.sign_in.failed')).slice(failuresBefore)
    expect(failures.map((event) => event.details.reason)).toEqual(['already_consumed'])
  })

  it('a callback for a connection disabled after the flow started is refused and writes nothing', async () => {
    const deps = { db: getDb(), now: now(), actor: OPERATOR_ACTOR }
    try {
      await expectRefusedAndNothingWritten({
        name: 'disabled connection',
        reason: 'connection_disabled',
        status: 403,
        flow: 'consumed',
        prepare: async () => {
          const login = await startLogin(ALICE)
          await setSsoConnectionStatus(deps, { connectionId: tenantA.connection.id, status: 'disabled' })
          return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
        },
      })
    } finally {
      await setSsoConnectionStatus({ ...deps, now: now() }, { connectionId: tenantA.connection.id, status: 'enabled' })
    }
    await expectSignedIn(await startLogin(ALICE))
  })

  it('nothing in the callback URL decides where the user lands (open redirect): the page stored at the start does', async () => {
    const browser = newTestBrowser()
    const answer = await beginSignInAs(browser, ALICE.email, 'https://evil.example/phish')
    if (answer.next !== 'sso') throw new Error('expected SSO')
    const callbackUrl = await signInAtLocalIdp(answer.url, ALICE)
    const hostile = withParams(callbackUrl, { redirect: 'https://evil.example/', redirect_uri: 'https://evil.example/', next: '//evil.example' })
    const response = await expectSignedIn({ browser, state: new URL(answer.url).searchParams.get('state')!, callbackUrl: hostile })
    expect(response.headers.get('location')).toBe('/app')
  })

  it("refusing another browser's callback leaves that browser's own flow usable", async () => {
    const attacker = await startLogin(ALICE)
    const victim = await startLogin(ALICE)
    await expectRefusedAndNothingWritten({ name: 'swap', reason: 'browser_mismatch', flow: 'consumed', prepare: async () => ({ state: attacker.state, deliver: () => deliverCallback(victim.browser, attacker.callbackUrl) }) })
    await expectSignedIn(victim)
  })
})

describe('ID token and authorization response validation (OIDC Core §3.1.3.7, RFC 9207)', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000)
  // `check` is openid-client's error code for the validation that fired (the audit event's `check`).
  const CLAIM = 'OAUTH_JWT_CLAIM_COMPARISON_FAILED'
  const INVALID = 'OAUTH_INVALID_RESPONSE'
  const TIMESTAMP = 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED'
  const faultAttacks: Array<[name: string, faults: () => LocalOidcFaults, check: string]> = [
    ['an ID token with another nonce', () => ({ idToken: { claims: { nonce: generateFlowRandomValue() } } }), CLAIM],
    ['an ID token without a nonce', () => ({ idToken: { removeClaims: ['nonce'] } }), INVALID],
    ['an ID token from another issuer', () => ({ idToken: { claims: { iss: 'http://127.0.0.1:1' } } }), CLAIM],
    ['an ID token for another audience', () => ({ idToken: { claims: { aud: 'another-client' } } }), CLAIM],
    ['an ID token with an extra audience and no azp', () => ({ idToken: { claims: { aud: [tenantA.clientId, 'another-client'] }, removeClaims: ['azp'] } }), CLAIM],
    ['an ID token with an extra audience, authorized for the other party (azp)', () => ({ idToken: { claims: { aud: [tenantA.clientId, 'another-client'], azp: 'another-client' } } }), CLAIM],
    ['an ID token with an extra audience, although authorized for us (azp)', () => ({ idToken: { claims: { aud: [tenantA.clientId, 'another-client'], azp: tenantA.clientId } } }), 'aud'],
    ['an ID token authorized for another party (azp) although the audience is ours', () => ({ idToken: { claims: { azp: 'another-client' } } }), 'azp'],
    ["an ID token for B's client (another connection's audience)", () => ({ idToken: { claims: { aud: tenantB.clientId } } }), CLAIM],
    ['an unsigned ID token (alg: none)', () => ({ idToken: { alg: 'none' } }), INVALID],
    ['an ID token with a corrupted signature', () => ({ idToken: { signature: 'corrupt' } }), INVALID],
    ['an ID token signed by another key under the published kid', () => ({ idToken: { signature: 'other_key' } }), INVALID],
    ['an expired ID token', () => ({ idToken: { claims: { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 } } }), TIMESTAMP],
    ['an ID token expired by just more than the clock tolerance', () => ({ idToken: { claims: { exp: nowSeconds() - appConfig.sso.clockSkewSeconds - 5 } } }), TIMESTAMP],
    ['an ID token not valid yet (nbf in the future)', () => ({ idToken: { claims: { nbf: nowSeconds() + 3600 } } }), TIMESTAMP],
    ['an ID token without a subject', () => ({ idToken: { removeClaims: ['sub'] } }), INVALID],
    ['userinfo for another subject than the ID token (OIDC Core §5.3.4)', () => ({ idToken: { removeClaims: ['email'] }, userinfo: { sub: 'someone-else' } }), 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED'],
    ['a wrong RFC 9207 iss response parameter', () => ({ authorizationResponse: { iss: 'http://127.0.0.1:1' } }), INVALID],
    ['no iss response parameter while the IdP advertises it', () => ({ authorizationResponse: { iss: null } }), INVALID],
  ]

  it.each(faultAttacks)('%s is refused and writes nothing', async (name, faults, check) => {
    const { details } = await expectRefusedAndNothingWritten({
      name,
      reason: 'token_invalid',
      flow: 'consumed',
      prepare: async () => {
        testbed.idp.setFaults(faults())
        const login = await startLogin(ALICE)
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    })
    expect(details).toMatchObject({ check })
  })

  /** Authorization responses tampered with in the address bar (the flow's state and binding are right). */
  const responseAttacks: Array<[name: string, tamper: (login: PendingLogin) => Promise<string>]> = [
    ['a callback that repeats the code (RFC 6749 §3.1: parameters are sent once)', async (login) => `${login.callbackUrl}&code=attacker-code`],
    ['a callback without a code', async (login) => withParams(login.callbackUrl, { code: null })],
    ['a made-up code', async (login) => withParams(login.callbackUrl, { code: generateFlowRandomValue() })],
    [
      "a code already redeemed by an earlier login, sent with a new flow's state (code replay, RFC 9700 §4.5)",
      async (login) => {
        const earlier = await startLogin(ALICE, { browser: login.browser })
        await expectSignedIn(earlier)
        return withParams(login.callbackUrl, { code: new URL(earlier.callbackUrl).searchParams.get('code') })
      },
    ],
  ]

  it.each(responseAttacks)('%s is refused and writes nothing', async (name, tamper) => {
    await expectRefusedAndNothingWritten({
      name,
      reason: 'token_invalid',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE)
        const url = await tamper(login)
        return { state: login.state, deliver: () => deliverCallback(login.browser, url) }
      },
    })
  })

  it.each<[string, () => LocalOidcFaults]>([
    ['an ID token re-signed by the real key with claims left intact (the fault switch itself changes nothing else)', () => ({ idToken: { claims: {} } })],
    ['an ID token whose audience is a one-element array of our client, authorized for us (azp)', () => ({ idToken: { claims: { aud: [tenantA.clientId], azp: tenantA.clientId } } })],
    ['an ID token expired by less than the clock tolerance', () => ({ idToken: { claims: { exp: nowSeconds() - Math.floor(appConfig.sso.clockSkewSeconds / 2) } } })],
  ])('the other side: %s signs in', async (_name, faults) => {
    testbed.idp.setFaults(faults())
    await expectSignedIn(await startLogin(ALICE))
  })
})

describe('IdP errors: the description is never rendered (content injection)', () => {
  const MARKUP = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>'
  const DESCRIPTION = `Your account is locked. Call +1 555 0100 to unlock it ${MARKUP}`
  const errorAttacks: Array<[name: string, error: { error: string; errorDescription?: string }, check: string]> = [
    ['error=access_denied with markup in error_description', { error: 'access_denied', errorDescription: DESCRIPTION }, 'access_denied'],
    ['an error code that is itself markup', { error: MARKUP, errorDescription: DESCRIPTION }, 'unknown'],
  ]

  it.each(errorAttacks)('%s is refused, writes nothing and shows none of it', async (name, error, check) => {
    const { html, details } = await expectRefusedAndNothingWritten({
      name,
      reason: 'idp_error',
      flow: 'consumed',
      prepare: async () => {
        testbed.idp.setFaults({ authorizationResponse: { error } })
        const login = await startLogin(ALICE)
        expect(new URL(login.callbackUrl).searchParams.get('error_description')).toBe(DESCRIPTION)
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    })
    expect(details).toMatchObject({ check })
    for (const fragment of [DESCRIPTION, MARKUP, '<script', '<img', 'onerror', 'Call +1 555', 'locked']) expect(html).not.toContain(fragment)
    expect(JSON.stringify(details)).not.toContain('Call +1 555')
  })

  it('a sign-in cancelled at the IdP (a real access_denied) is refused and shows only our text', async () => {
    const { html } = await expectRefusedAndNothingWritten({
      name: 'cancel',
      reason: 'idp_error',
      flow: 'consumed',
      prepare: async () => {
        const login = await startLogin(ALICE, { cancelAtIdp: true })
        expect(new URL(login.callbackUrl).searchParams.get('error')).toBe('access_denied')
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    })
    expect(html).not.toContain('cancelled')
  })
})

describe("tenant binding: A's connection never signs anyone into B", () => {
  beforeAll(async () => {
    // Bob: an account of organization B whose email happens to sit at A's domain.
    await createTestUser({ email: BOB_OF_B.email, organizationId: tenantB.organization.id })
    // The account of B whose address Mallory's IdP user claims.
    await createTestUser({ email: MALLORY_AS_B.email, organizationId: tenantB.organization.id })
    // Carol: signed in through A once (identity (A, carol-subject)), then her account moved to B.
    const { user: carol } = await createTestUser({ email: CAROL_MOVED.email, organizationId: tenantB.organization.id })
    await sql('INSERT INTO sso_identities (id, connection_id, subject, user_id, created_at) VALUES (?, ?, ?, ?, NOW())', [generateId(), tenantA.connection.id, CAROL_MOVED.sub, carol.id])
    // A also claims B's domain; the claim stays pending (B verified it first) and must count for nothing.
    await addOrganizationDomain({ db: getDb(), now: now(), actor: OPERATOR_ACTOR }, { organizationId: tenantA.organization.id, domain: DOMAIN_B })
  })

  const tenantAttacks: Array<[name: string, credentials: Credentials, reason: string]> = [
    ["an IdP user of A asserting an address at B's verified domain (an account of B holds it)", MALLORY_AS_B, 'domain_not_verified'],
    ["an IdP user of A asserting a new address at B's verified domain (A's pending claim on it counts for nothing)", NEWCOMER_AT_B, 'domain_not_verified'],
    ['an IdP user of A asserting an address at a domain nobody verified (a public provider)', PUBLIC_ADDRESS, 'domain_not_verified'],
    ["an IdP user of A asserting an address at A's domain that belongs to an account of B", BOB_OF_B, 'user_in_other_organization'],
    ['an identity linked through A whose account now belongs to B', CAROL_MOVED, 'user_in_other_organization'],
  ]

  it.each(tenantAttacks)('%s is refused and writes nothing', async (name, credentials, reason) => {
    await expectRefusedAndNothingWritten({
      name,
      reason,
      status: 403,
      flow: 'consumed',
      prepare: async () => {
        // Discovery routes an address at A's domain to A's connection; the IdP then vouches for `credentials`.
        const login = await startLogin(credentials, { emailForDiscovery: `anyone@${DOMAIN_A}` })
        return { state: login.state, deliver: () => deliverCallback(login.browser, login.callbackUrl) }
      },
    })
    const identities = await sql('SELECT i.connection_id FROM sso_identities i JOIN users u ON u.id = i.user_id WHERE u.organization_id = ? AND i.connection_id = ? AND u.email <> ?', [tenantB.organization.id, tenantA.connection.id, CAROL_MOVED.email])
    expect(identities).toEqual([])
  })

  it("no session of B's accounts was ever created through A's connection", async () => {
    const sessions = await sql('SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.organization_id = ?', [tenantB.organization.id])
    expect(sessions).toEqual([])
  })
})
