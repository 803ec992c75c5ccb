/**
 * OIDC sign-in against the BUILT production server over real HTTP, with the real local provider
 * (oidc-provider 9) on 127.0.0.1 — as an operator runs it:
 *
 * - A full sign-in: `auth.beginSignIn` (a same-origin POST) → the IdP → the callback with the
 *   browser-binding cookie → 303 with a session cookie → `auth.me`. It works only because
 *   `SSO_ALLOWED_PRIVATE_HOSTS` lists 127.0.0.1: without the entry (the production default is
 *   empty) the same connection cannot be used, and an issuer on loopback — by address or by a name
 *   that resolves there — is refused when it is saved (server-side request forgery, OWASP ASVS 5.0
 *   V1.3.6; ADR 014 "Outbound requests").
 * - Two instances on one database, as behind a load balancer: a flow started on A completes on B
 *   (flow state lives in the database, not in an instance), and a callback consumed on A is
 *   refused on B (single use on any instance: ADR 014's conditional UPDATE; replayed authorization
 *   responses, RFC 9700 §4.5; ASVS 5.0 V10.1.2).
 * - A refusal page from the production build: our words and a reason code only, never the IdP's
 *   `error_description` (HTML injection), with the usual security headers and `no-store`.
 * - The callback accepts GET only: a POST is answered 405 with `Allow` before any handler runs
 *   (ADR 009 route table; RFC 9110 §15.5.6).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { createDatabase, type DatabaseHandle } from '../../src/server/db/client'
import { resetServerEnvForTests } from '../../src/server/env'
import { getSsoBindingCookieName } from '../../src/server/sso/browser-binding'
import { startOidcTestbed, type OidcTestbed, type OidcTestTenant } from '../support/oidc-fixtures'
import { runCli } from '../support/sso-fixtures'
import type { RunningAppServer } from '../setup/app-server'
import { getTrpc, postTrpc, sessionCookieFrom, startSecurityTestServer, withConnection } from './security-support'

const DOMAIN = 'http-sso.test'
const ADA = { email: `ada@${DOMAIN}`, password: 'ada-http-idp-password', name: 'Ada', groups: ['idp-admins'], sub: 'ada-http-subject' }
const GRACE = { email: `grace@${DOMAIN}`, password: 'grace-http-idp-password', name: 'Grace', sub: 'grace-http-subject' }
const LOOPBACK_ALLOWED = { SSO_ALLOWED_PRIVATE_HOSTS: '127.0.0.1,localhost' }
/** One secret for every instance (they seal and open each other's PKCE verifiers) and for seeding here. */
const APP_SECRET = randomBytes(32).toString('base64url')
const CLI_TIMEOUT = { timeout: 90_000 }

let instanceA: RunningAppServer
let instanceB: RunningAppServer
let seedDatabase: DatabaseHandle
let testbed: OidcTestbed
let tenant: OidcTestTenant

beforeAll(async () => {
  // This process seals the connection's client secret: it must use the servers' APP_SECRET.
  process.env.APP_SECRET = APP_SECRET
  // "Without the entry" must mean without it: nothing inherited from the shell.
  delete process.env.SSO_ALLOWED_PRIVATE_HOSTS
  resetServerEnvForTests()
  instanceA = await startSecurityTestServer(inject('runId'), 'sso-oidc', { env: { APP_SECRET, ...LOOPBACK_ALLOWED } })
  // B serves the same public URL (APP_URL) from another port, as a second instance behind a load balancer.
  instanceB = await startSecurityTestServer(inject('runId'), 'sso-oidc', { databaseUrl: instanceA.databaseUrl, env: { APP_SECRET, APP_URL: instanceA.url, ...LOOPBACK_ALLOWED } })
  seedDatabase = createDatabase(instanceA.databaseUrl, { connectionLimit: 2 })
  testbed = await startOidcTestbed([ADA, GRACE], [{ domain: DOMAIN, groupRoleMap: { 'idp-admins': 'admin' } }], { appUrl: new URL(instanceA.url), db: seedDatabase.db })
  tenant = testbed.tenants[0]!
}, 120_000)

afterAll(async () => {
  await testbed?.stop()
  await seedDatabase?.pool.end()
  await Promise.all([instanceA?.stop(), instanceB?.stop()])
})

type SsoStart = { idpUrl: string; bindingCookie: string }

/** The email-first step as the login page sends it: a same-origin JSON POST; keeps the binding cookie. */
async function beginSignInOverHttp(server: RunningAppServer, email: string, redirect?: string): Promise<SsoStart> {
  const response = await postTrpc(server, 'auth.beginSignIn', { email, redirect })
  const body = (await response.json()) as { result: { data: { next: string; url?: string } } }
  expect(response.status, JSON.stringify(body)).toBe(200)
  expect(body.result.data.next).toBe('sso')
  const bindingName = getSsoBindingCookieName(new URL(server.url))
  const binding = response.headers.getSetCookie().find((line) => line.startsWith(`${bindingName}=`))
  expect(binding).toMatch(/; HttpOnly/i)
  expect(binding).toMatch(/; SameSite=Lax/i)
  return { idpUrl: body.result.data.url!, bindingCookie: binding!.split(';', 1)[0]! }
}

/** The redirect back from the IdP, opened at `server` (another instance may serve the same public URL). */
function callbackAt(server: RunningAppServer, callbackUrl: string): string {
  const url = new URL(callbackUrl)
  return new URL(url.pathname + url.search, server.url).href
}

/** The browser's top-level GET of the callback, with its binding cookie; redirects are not followed. */
function getCallback(server: RunningAppServer, callbackUrl: string, cookie: string): Promise<Response> {
  return fetch(callbackAt(server, callbackUrl), { headers: { cookie }, redirect: 'manual' })
}

async function viewerOf(server: RunningAppServer, cookie: string): Promise<{ user: { email: string; role: string }; session: { authMethod: string } } | null> {
  const response = await getTrpc(server, 'auth.me', undefined, { cookie })
  expect(response.status).toBe(200)
  const body = (await response.json()) as { result: { data: { status?: string; user: { email: string; role: string }; session: { authMethod: string } } | null } }
  return body.result.data?.user ? body.result.data : null
}

async function queryRows(databaseUrl: string, statement: string, params: unknown[] = []): Promise<mysql.RowDataPacket[]> {
  return withConnection(databaseUrl, async (connection) => (await connection.query<mysql.RowDataPacket[]>(statement, params))[0])
}

describe('a full OIDC sign-in over HTTP against the local provider', () => {
  it('email first → IdP → callback with the binding cookie → 303 and a session → auth.me', async () => {
    const start = await beginSignInOverHttp(instanceA, ADA.email, '/settings/security')
    expect(new URL(start.idpUrl).origin).toBe(testbed.idp.issuer)
    const callbackUrl = await signInAtLocalIdp(start.idpUrl, ADA)
    expect(callbackUrl.startsWith(`${instanceA.url}/api/auth/oidc/${tenant.connection.id}/callback?`)).toBe(true)

    const response = await getCallback(instanceA, callbackUrl, start.bindingCookie)
    expect(response.status, await response.clone().text()).toBe(303)
    expect(response.headers.get('location')).toBe('/settings/security')
    const session = sessionCookieFrom(response)
    expect(session).not.toBeNull()
    expect(await viewerOf(instanceA, session!)).toMatchObject({ user: { email: ADA.email, role: 'admin' }, session: { authMethod: 'oidc' } })
  })

  it('the same callback without the binding cookie is refused: 400 page, no session', async () => {
    const start = await beginSignInOverHttp(instanceA, ADA.email)
    const callbackUrl = await signInAtLocalIdp(start.idpUrl, ADA)
    const response = await getCallback(instanceA, callbackUrl, '')
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('browser_mismatch')
    expect(sessionCookieFrom(response)).toBeNull()
  })

  it("an IdP error is refused with our own page: none of the IdP's text, security headers, no-store", async () => {
    const description = 'Call +1 555 0100 <script>alert(document.cookie)</script>'
    const start = await beginSignInOverHttp(instanceA, ADA.email)
    testbed.idp.setFaults({ authorizationResponse: { error: { error: 'access_denied', errorDescription: description } } })
    let callbackUrl: string
    try {
      callbackUrl = await signInAtLocalIdp(start.idpUrl, ADA)
    } finally {
      testbed.idp.setFaults(null)
    }
    const response = await getCallback(instanceA, callbackUrl, start.bindingCookie)
    const html = await response.text()
    expect(response.status).toBe(400)
    expect(html).toContain('Reason code: <code>idp_error</code>')
    for (const fragment of [description, '<script', 'Call +1 555']) expect(html).not.toContain(fragment)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(sessionCookieFrom(response)).toBeNull()
  })

  it('a POST to the callback is answered 405 with Allow: GET, HEAD', async () => {
    for (const headers of [{ origin: instanceA.url, 'sec-fetch-site': 'same-origin' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }]) {
      const response = await fetch(`${instanceA.url}/api/auth/oidc/${tenant.connection.id}/callback?code=x&state=y`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'code=x&state=y',
        redirect: 'manual',
      })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('GET, HEAD')
      expect(sessionCookieFrom(response)).toBeNull()
    }
  })
})

describe('two instances on one database (flow state is shared, single use holds across instances)', () => {
  it('a flow started on A completes on B, and the session is valid on both', async () => {
    const start = await beginSignInOverHttp(instanceA, GRACE.email)
    const callbackUrl = await signInAtLocalIdp(start.idpUrl, GRACE)
    const response = await getCallback(instanceB, callbackUrl, start.bindingCookie)
    expect(response.status, await response.clone().text()).toBe(303)
    const session = sessionCookieFrom(response)
    expect(session).not.toBeNull()
    expect(await viewerOf(instanceB, session!)).toMatchObject({ user: { email: GRACE.email } })
    expect(await viewerOf(instanceA, session!)).toMatchObject({ user: { email: GRACE.email } })
  })

  it('a callback consumed on A is refused on B: 400, no session, nothing written but one sso.sign_in.failed', async () => {
    const start = await beginSignInOverHttp(instanceA, GRACE.email)
    const callbackUrl = await signInAtLocalIdp(start.idpUrl, GRACE)
    const first = await getCallback(instanceA, callbackUrl, start.bindingCookie)
    expect(first.status).toBe(303)

    const countsBefore = await queryRows(instanceA.databaseUrl, 'SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM sso_identities) AS identities')
    const failedBefore = await queryRows(instanceA.databaseUrl, "SELECT id FROM audit_events WHERE type = 'sso.sign_in.failed'")
    const replay = await getCallback(instanceB, callbackUrl, start.bindingCookie)
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('already_consumed')
    expect(sessionCookieFrom(replay)).toBeNull()
    expect(await queryRows(instanceA.databaseUrl, 'SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM sso_identities) AS identities')).toEqual(countsBefore)
    const failed = await queryRows(instanceA.databaseUrl, "SELECT details FROM audit_events WHERE type = 'sso.sign_in.failed' ORDER BY id")
    expect(failed).toHaveLength(failedBefore.length + 1)
    const details = failed.at(-1)!.details
    expect(typeof details === 'string' ? JSON.parse(details) : details).toMatchObject({ reason: 'already_consumed' })
  })
})

describe('loopback IdPs need SSO_ALLOWED_PRIVATE_HOSTS (empty by default in production)', () => {
  let secretFile: string
  let organizationSlug: string

  beforeAll(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'gatehouse-http-sso-'))
    secretFile = join(directory, 'client-secret')
    writeFileSync(secretFile, 'http-test-client-secret\n', { mode: 0o600 })
    const [row] = await queryRows(instanceA.databaseUrl, 'SELECT slug FROM organizations WHERE id = ?', [tenant.organization.id])
    organizationSlug = row!.slug
  })

  /** The production server's environment, for the CLI; `allowList` undefined leaves the variable unset. */
  function productionEnv(allowList: string | undefined): Record<string, string> {
    return {
      NODE_ENV: 'production',
      DATABASE_URL: instanceA.databaseUrl,
      APP_URL: instanceA.url,
      APP_SECRET,
      MAIL_TRANSPORT: 'outbox',
      ...(allowList === undefined ? {} : { SSO_ALLOWED_PRIVATE_HOSTS: allowList }),
    }
  }

  function addConnection(issuer: string, allowList: string | undefined) {
    return runCli(['sso:oidc:add', '--org', organizationSlug, '--name', 'Saved IdP', '--issuer', issuer, '--client-id', 'saved-client', '--client-secret-file', secretFile], { env: productionEnv(allowList) })
  }

  const refusals: Array<[name: string, issuer: () => string, allowList: string | undefined, refusal: RegExp]> = [
    ['the local IdP by address, SSO_ALLOWED_PRIVATE_HOSTS unset', () => testbed.idp.issuer, undefined, /--issuer: issuer refused: 127\.0\.0\.1 resolves to a loopback address/],
    ['the local IdP by address, SSO_ALLOWED_PRIVATE_HOSTS empty', () => testbed.idp.issuer, '', /--issuer: issuer refused: 127\.0\.0\.1 resolves to a loopback address/],
    ['a name that resolves to loopback (localhost), unset', () => `http://localhost:${testbed.idp.port}`, undefined, /--issuer: issuer refused: localhost resolves to a loopback address/],
    ['a name that resolves to loopback over https, empty', () => `https://localhost:${testbed.idp.port}/oidc`, '', /--issuer: issuer refused: localhost resolves to a loopback address/],
    ['a private address the list does not name, although loopback is listed', () => 'https://10.0.0.5/oidc', LOOPBACK_ALLOWED.SSO_ALLOWED_PRIVATE_HOSTS, /--issuer: issuer refused: 10\.0\.0\.5 resolves to a private address/],
  ]

  it.each(refusals)('sso:oidc:add refuses %s: exit 2, nothing saved', CLI_TIMEOUT, async (_name, issuer, allowList, refusal) => {
    const [before] = await queryRows(instanceA.databaseUrl, 'SELECT COUNT(*) AS n FROM sso_connections')
    const result = await addConnection(issuer(), allowList)
    expect(result.code, result.stdout + result.stderr).toBe(2)
    expect(result.stderr).toMatch(refusal)
    expect(await queryRows(instanceA.databaseUrl, 'SELECT COUNT(*) AS n FROM sso_connections')).toEqual([before])
  })

  it('sso:oidc:add saves the local IdP when SSO_ALLOWED_PRIVATE_HOSTS lists it (the other side)', CLI_TIMEOUT, async () => {
    const result = await addConnection(testbed.idp.issuer, LOOPBACK_ALLOWED.SSO_ALLOWED_PRIVATE_HOSTS)
    expect(result.code, result.stderr).toBe(0)
    const id = /created OIDC connection ([a-z2-7]{26})/.exec(result.stdout)![1]!
    expect(await queryRows(instanceA.databaseUrl, 'SELECT oidc_issuer FROM sso_connections WHERE id = ?', [id])).toEqual([{ oidc_issuer: testbed.idp.issuer }])
  })

  it('a server without the entry does not contact a loopback IdP saved earlier: sign-in cannot start', async () => {
    const instanceC = await startSecurityTestServer(inject('runId'), 'sso-oidc', { databaseUrl: instanceA.databaseUrl, env: { APP_SECRET } })
    try {
      testbed.idp.resetCounters()
      const response = await postTrpc(instanceC, 'auth.beginSignIn', { email: ADA.email })
      const body = (await response.json()) as { error?: { data: { appCode: string | null; httpStatus: number } } }
      expect(response.status, JSON.stringify(body)).toBe(503)
      expect(body.error?.data.appCode).toBe('SERVICE_UNAVAILABLE')
      expect(testbed.idp.counters.discovery).toBe(0)
      expect(instanceC.output()).toMatch(/127\.0\.0\.1 resolves to a loopback address/)
    } finally {
      await instanceC.stop()
    }
  }, 60_000)
})
