/**
 * The SAML ACS against the BUILT production server over real HTTP, two instances on one database
 * (as behind a load balancer), with the local SAML IdP on 127.0.0.1 signing real responses.
 *
 * - Replay (SAML Profiles §4.1.4.5; ADR 015): a signed response is a bearer token the browser
 *   carries, so a copy from history, a proxy log or a HAR file validates again until its
 *   NotOnOrAfter unless the app remembers it. The same response POSTed twice to one instance, or
 *   at the same moment to two instances, yields exactly one completion ticket (one 303) and one
 *   session; the other POST is refused (4xx) and writes no session.
 * - The CSRF exemption (ADR 005 route table, ADR 015): the ACS is the only route that accepts a
 *   cross-site urlencoded POST without an Origin check — the HTTP-POST binding is a cross-site form
 *   post by design. The same cross-site POST anywhere else is refused before a handler runs.
 */
import { randomBytes } from 'node:crypto'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { signInAtLocalSamlIdp } from '../../scripts/idp/saml-idp'
import { createDatabase, type DatabaseHandle } from '../../src/server/db/client'
import { resetServerEnvForTests } from '../../src/server/env'
import { CSRF_EXEMPT_ROUTES } from '../../src/server/http/api-routes'
import { getSsoBindingCookieName } from '../../src/server/sso/browser-binding'
import { startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import type { RunningAppServer } from '../setup/app-server'
import { getTrpc, postTrpc, sessionCookieFrom, startSecurityTestServer, withConnection } from './security-support'

const DOMAIN = 'http-saml.test'
const ROSA = { email: `rosa@${DOMAIN}`, password: 'rosa-saml-idp-password', displayName: 'Rosa Replay', groups: ['staff'] }
const LOOPBACK_ALLOWED = { SSO_ALLOWED_PRIVATE_HOSTS: '127.0.0.1,localhost' }
const APP_SECRET = randomBytes(32).toString('base64url')

let instanceA: RunningAppServer
let instanceB: RunningAppServer
let seedDatabase: DatabaseHandle
let testbed: SamlTestbed

beforeAll(async () => {
  process.env.APP_SECRET = APP_SECRET
  resetServerEnvForTests()
  instanceA = await startSecurityTestServer(inject('runId'), 'saml-replay', { env: { APP_SECRET, ...LOOPBACK_ALLOWED } })
  // B serves the same public URL (APP_URL) from another port: the ACS URL in the response is A's, as behind a load balancer.
  instanceB = await startSecurityTestServer(inject('runId'), 'saml-replay', { databaseUrl: instanceA.databaseUrl, env: { APP_SECRET, APP_URL: instanceA.url, ...LOOPBACK_ALLOWED } })
  seedDatabase = createDatabase(instanceA.databaseUrl, { connectionLimit: 2 })
  testbed = await startSamlTestbed([ROSA], { domain: DOMAIN, db: seedDatabase.db })
}, 120_000)

afterAll(async () => {
  await testbed?.stop()
  await seedDatabase?.pool.end()
  await Promise.all([instanceA?.stop(), instanceB?.stop()])
})

async function queryRows(statement: string, params: unknown[] = []): Promise<mysql.RowDataPacket[]> {
  return withConnection(instanceA.databaseUrl, async (connection) => (await connection.query<mysql.RowDataPacket[]>(statement, params))[0])
}

async function sessionCount(): Promise<number> {
  const [row] = await queryRows('SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?', [ROSA.email])
  return Number(row!.n)
}

/** Email first over HTTP (a same-origin JSON POST), then the IdP's form: what the browser would POST, and its binding cookie. */
async function signedResponseFor(server: RunningAppServer): Promise<{ samlResponse: string; acsPath: string; bindingCookie: string }> {
  const response = await postTrpc(server, 'auth.beginSignIn', { email: ROSA.email, redirect: '/settings/security' })
  const body = (await response.json()) as { result: { data: { next: string; url: string } } }
  expect(body.result.data.next).toBe('sso')
  const bindingName = getSsoBindingCookieName(new URL(server.url))
  const binding = response.headers.getSetCookie().find((line) => line.startsWith(`${bindingName}=`))!
  const posted = await signInAtLocalSamlIdp(body.result.data.url, ROSA)
  expect(posted.acsUrl).toBe(`${instanceA.url}/api/auth/saml/${testbed.connection.id}/acs`)
  return { samlResponse: posted.SAMLResponse, acsPath: new URL(posted.acsUrl).pathname, bindingCookie: binding.split(';', 1)[0]! }
}

/** The IdP page's auto-submitted form, as Chromium sends it: cross-site, urlencoded, no cookie. */
function postCrossSite(server: RunningAppServer, path: string, form: Record<string, string>): Promise<Response> {
  return fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { origin: new URL(testbed.idp.metadataUrl).origin, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  })
}

/** Step 2: the completion GET in the browser that started the flow. */
async function complete(server: RunningAppServer, location: string, bindingCookie: string): Promise<Response> {
  return fetch(new URL(location, server.url), { headers: { cookie: bindingCookie }, redirect: 'manual' })
}

async function viewerEmail(server: RunningAppServer, cookie: string): Promise<string | null> {
  const body = (await (await getTrpc(server, 'auth.me', undefined, { cookie })).json()) as { result: { data: { user?: { email: string } } | null } }
  return body.result.data?.user?.email ?? null
}

describe('a replayed SAML response yields exactly one session', () => {
  it('the same response POSTed twice to one instance: one 303, the second refused, one session', async () => {
    const { samlResponse, acsPath, bindingCookie } = await signedResponseFor(instanceA)
    const sessionsBefore = await sessionCount()

    const first = await postCrossSite(instanceA, acsPath, { SAMLResponse: samlResponse })
    expect(first.status, await first.clone().text()).toBe(303)
    const location = first.headers.get('location')!
    expect(location).toMatch(new RegExp(`/api/auth/saml/${testbed.connection.id}/complete\\?ticket=`))
    expect(sessionCookieFrom(first)).toBeNull()

    const replay = await postCrossSite(instanceA, acsPath, { SAMLResponse: samlResponse })
    expect(replay.status).toBeGreaterThanOrEqual(400)
    expect(replay.status).toBeLessThan(500)
    expect(replay.headers.get('location')).toBeNull()

    const completed = await complete(instanceA, location, bindingCookie)
    expect(completed.status, await completed.clone().text()).toBe(303)
    expect(completed.headers.get('location')).toBe('/settings/security')
    const session = sessionCookieFrom(completed)!
    expect(await viewerEmail(instanceA, session)).toBe(ROSA.email)
    expect(await sessionCount()).toBe(sessionsBefore + 1)
  })

  it('the same response POSTed at the same moment to two instances: exactly one 303, one session', async () => {
    const { samlResponse, acsPath, bindingCookie } = await signedResponseFor(instanceA)
    const sessionsBefore = await sessionCount()
    const answers = await Promise.all([postCrossSite(instanceA, acsPath, { SAMLResponse: samlResponse }), postCrossSite(instanceB, acsPath, { SAMLResponse: samlResponse })])
    const statuses = answers.map((answer) => answer.status)
    expect(statuses.filter((status) => status === 303), `statuses ${statuses.join(', ')}`).toHaveLength(1)
    const refused = statuses.find((status) => status !== 303)!
    expect(refused).toBeGreaterThanOrEqual(400)
    expect(refused).toBeLessThan(500)

    const winner = answers.find((answer) => answer.status === 303)!
    const completed = await complete(instanceB, winner.headers.get('location')!, bindingCookie)
    expect(completed.status).toBe(303)
    expect(await viewerEmail(instanceA, sessionCookieFrom(completed)!)).toBe(ROSA.email)
    expect(await sessionCount()).toBe(sessionsBefore + 1)

    // And later, on either instance: still refused.
    for (const server of [instanceA, instanceB]) {
      const late = await postCrossSite(server, acsPath, { SAMLResponse: samlResponse })
      expect(late.status).toBeGreaterThanOrEqual(400)
      expect(late.status).toBeLessThan(500)
    }
    expect(await sessionCount()).toBe(sessionsBefore + 1)
  })
})

describe('the ACS is the only route that takes a cross-site urlencoded POST without an Origin check', () => {
  it('the route table lists exactly one CSRF exemption: the ACS, with its reason', () => {
    expect(CSRF_EXEMPT_ROUTES.map((route) => ({ path: route.path, methods: route.methods }))).toEqual([{ path: '/api/auth/saml/$connectionId/acs', methods: ['POST'] }])
    expect(CSRF_EXEMPT_ROUTES[0]!.exemptBecause).toMatch(/signature/)
  })

  it('a cross-site POST reaches the ACS handler (its own refusal, not the CSRF guard), and is refused everywhere else', async () => {
    const acs = await postCrossSite(instanceA, `/api/auth/saml/${testbed.connection.id}/acs`, { SAMLResponse: Buffer.from('<not-saml/>').toString('base64') })
    expect(acs.status).toBe(400)
    expect(await acs.text()).toContain('Reason code')

    const elsewhere: Array<{ path: string; form: Record<string, string> }> = [
      { path: '/api/trpc/auth.signOut', form: {} },
      { path: '/api/trpc/auth.signIn', form: { email: ROSA.email, password: 'x' } },
      { path: '/login', form: { email: ROSA.email } },
    ]
    for (const { path, form } of elsewhere) {
      const response = await postCrossSite(instanceA, path, form)
      expect(response.status, path).toBe(403)
      expect(sessionCookieFrom(response), path).toBeNull()
    }
    // The completion and the OIDC callback take no POST at all.
    for (const path of [`/api/auth/saml/${testbed.connection.id}/complete?ticket=x`, `/api/auth/oidc/${testbed.connection.id}/callback?code=x&state=y`]) {
      const response = await postCrossSite(instanceA, path, {})
      expect(response.status, path).toBe(405)
    }
  })
})
