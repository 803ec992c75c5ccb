/**
 * Cross-site request forgery against the built production server (SPEC §7). Every refusal also
 * proves that nothing ran: no user, no session, not even a rate-limit bucket or an audit row.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import type { RunningAppServer } from '../setup/app-server'
import {
  TEST_PASSWORD,
  clearRateLimits,
  countRows,
  createPasswordUser,
  callServerFn,
  findBuiltServerFnId,
  getTrpc,
  getViewer,
  startSecurityTestServer,
  postTrpc,
  sessionCookieFrom,
  signInOverHttp,
  withConnection,
  type TrpcErrorBody,
} from './security-support'

const EVIL_ORIGIN = 'https://evil.example'
const VICTIM = 'victim@csrf.test'

let server: RunningAppServer

beforeAll(async () => {
  server = await startSecurityTestServer(inject('runId'), 'csrf')
  await createPasswordUser(server.databaseUrl, { email: VICTIM, organizationName: 'Victim Org' })
})
afterAll(async () => {
  await server?.stop()
})

/** Removes sessions, buckets and audit rows so each test starts from "nothing written". */
async function resetWrites(): Promise<void> {
  await clearRateLimits(server.databaseUrl)
  await withConnection(server.databaseUrl, async (connection) => {
    await connection.query('DELETE FROM sessions')
    await connection.query('DELETE FROM audit_events')
  })
}

async function expectCsrfRefusal(response: Response): Promise<void> {
  expect(response.status).toBe(403)
  const body = (await response.json()) as TrpcErrorBody
  expect(body.error.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403, appCode: 'CSRF_REJECTED' })
}

async function expectNothingWritten(): Promise<void> {
  expect(await countRows(server.databaseUrl)).toEqual({ users: 1, sessions: 0, rate_limit_buckets: 0, audit_events: 0 })
}

const signInInput = { email: VICTIM, password: TEST_PASSWORD }

describe('tRPC mutations', () => {
  beforeEach(resetWrites)

  it('a sign-in posted from another site (cross-site Origin) is refused and writes nothing', async () => {
    await expectCsrfRefusal(await postTrpc(server, 'auth.signIn', signInInput, { headers: { origin: EVIL_ORIGIN, 'content-type': 'application/json' } }))
    await expectNothingWritten()
  })

  it('a request marked Sec-Fetch-Site: cross-site is refused even when it claims our Origin', async () => {
    const headers = { origin: server.url, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }
    await expectCsrfRefusal(await postTrpc(server, 'auth.signIn', signInInput, { headers }))
    await expectNothingWritten()
  })

  it('a request from a sibling site (Sec-Fetch-Site: same-site) is refused', async () => {
    const headers = { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }
    await expectCsrfRefusal(await postTrpc(server, 'auth.signIn', signInInput, { headers }))
    await expectNothingWritten()
  })

  it('a request with neither Origin nor Sec-Fetch-Site is refused', async () => {
    await expectCsrfRefusal(await postTrpc(server, 'auth.signIn', signInInput, { headers: { 'content-type': 'application/json' } }))
    await expectNothingWritten()
  })

  it('a same-origin-looking request with a Referer only is refused (Referer is not evidence)', async () => {
    const headers = { referer: `${server.url}/login`, 'content-type': 'application/json' }
    await expectCsrfRefusal(await postTrpc(server, 'auth.signIn', signInInput, { headers }))
    await expectNothingWritten()
  })

  it.each([
    ['text/plain (a form with enctype=text/plain, or a no-preflight fetch)', 'text/plain;charset=UTF-8', JSON.stringify(signInInput)],
    ['application/x-www-form-urlencoded (a plain HTML form)', 'application/x-www-form-urlencoded', `email=${encodeURIComponent(VICTIM)}&password=x`],
  ])('a %s body is refused even from our origin', async (_label, contentType, body) => {
    const response = await fetch(`${server.url}/api/trpc/auth.signIn`, {
      method: 'POST',
      headers: { origin: server.url, 'sec-fetch-site': 'same-origin', 'content-type': contentType },
      body,
    })
    await expectCsrfRefusal(response)
    await expectNothingWritten()
  })

  it('a multipart/form-data body (which tRPC would otherwise parse as input) is refused even from our origin', async () => {
    const form = new FormData()
    form.set('email', VICTIM)
    form.set('password', TEST_PASSWORD)
    const response = await fetch(`${server.url}/api/trpc/auth.signIn`, { method: 'POST', headers: { origin: server.url, 'sec-fetch-site': 'same-origin' }, body: form })
    await expectCsrfRefusal(response)
    await expectNothingWritten()
  })

  it('every call of a cross-site batch is refused in tRPC batch shape', async () => {
    const response = await fetch(`${server.url}/api/trpc/auth.signIn,auth.signUp?batch=1`, {
      method: 'POST',
      headers: { origin: EVIL_ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ 0: signInInput, 1: { email: 'new@csrf.test', password: TEST_PASSWORD, name: 'New' } }),
    })
    expect(response.status).toBe(403)
    const body = (await response.json()) as TrpcErrorBody[]
    expect(body.map((entry) => entry.error.data.appCode)).toEqual(['CSRF_REJECTED', 'CSRF_REJECTED'])
    await expectNothingWritten()
  })

  it("a cross-site request carrying the victim's cookie cannot sign them out or revoke their sessions", async () => {
    const cookie = await signInOverHttp(server, VICTIM)
    const other = await signInOverHttp(server, VICTIM)
    const before = await countRows(server.databaseUrl, ['sessions', 'audit_events'])
    const attack = { origin: EVIL_ORIGIN, 'content-type': 'application/json' }
    await expectCsrfRefusal(await postTrpc(server, 'sessions.revokeOthers', undefined, { cookie, headers: attack }))
    await expectCsrfRefusal(await postTrpc(server, 'auth.signOut', undefined, { cookie, headers: { ...attack, 'sec-fetch-site': 'cross-site' } }))
    expect(await countRows(server.databaseUrl, ['sessions', 'audit_events'])).toEqual(before)
    expect(await getViewer(server, cookie)).toMatchObject({ user: { email: VICTIM } })
    expect(await getViewer(server, other)).toMatchObject({ user: { email: VICTIM } })
  })

  describe('the other side of the exemption', () => {
    it('a same-origin JSON sign-in with Origin and Sec-Fetch-Site works', async () => {
      const response = await postTrpc(server, 'auth.signIn', signInInput)
      expect(response.status).toBe(200)
      expect(sessionCookieFrom(response)).not.toBeNull()
      expect((await countRows(server.databaseUrl, ['sessions'])).sessions).toBe(1)
    })

    it('Sec-Fetch-Site: same-origin alone is enough (browsers may omit Origin)', async () => {
      const response = await postTrpc(server, 'auth.signIn', signInInput, { headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json; charset=utf-8' } })
      expect(response.status).toBe(200)
    })

    it('our Origin alone is enough (browsers without Fetch Metadata)', async () => {
      const response = await postTrpc(server, 'auth.signIn', signInInput, { headers: { origin: server.url, 'content-type': 'application/json' } })
      expect(response.status).toBe(200)
    })

    it('queries stay readable over GET without origin evidence, and grant no cross-origin read (no CORS headers)', async () => {
      const response = await getTrpc(server, 'system.info', undefined, { headers: { 'sec-fetch-site': 'cross-site', origin: EVIL_ORIGIN } })
      expect(response.status).toBe(200)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    })
  })
})

describe('mutations sent as GET (an <img src> or a link can make a browser send a GET)', () => {
  beforeEach(resetWrites)

  it('a sign-in sent as GET is refused by tRPC (METHOD_NOT_SUPPORTED) and writes nothing', async () => {
    const response = await getTrpc(server, 'auth.signIn', signInInput, { headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(405)
    const body = (await response.json()) as TrpcErrorBody
    expect(body.error.data.code).toBe('METHOD_NOT_SUPPORTED')
    await expectNothingWritten()
  })

  it("a sign-out sent as GET with the victim's cookie leaves the session alive", async () => {
    const cookie = await signInOverHttp(server, VICTIM)
    const response = await getTrpc(server, 'auth.signOut', undefined, { cookie, headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(405)
    expect(sessionCookieFrom(response)).toBeNull()
    expect(await getViewer(server, cookie)).toMatchObject({ user: { email: VICTIM } })
  })
})

describe('server functions', () => {
  let cookie: string
  let dashboardSummaryId: string

  beforeAll(() => {
    dashboardSummaryId = findBuiltServerFnId('getDashboardSummary')
  })
  beforeEach(async () => {
    await resetWrites()
    cookie = await signInOverHttp(server, VICTIM)
  })

  it("a cross-site call with the victim's cookie is refused with CSRF_REJECTED before the function runs", async () => {
    const reply = await callServerFn(server, dashboardSummaryId, { cookie, headers: { origin: EVIL_ORIGIN, 'sec-fetch-site': 'cross-site' } })
    expect(reply.status).toBe(403)
    expect(reply.body.error).toMatchObject({ appCode: 'CSRF_REJECTED', httpStatus: 403 })
    expect(reply.text).not.toContain('activeSessionCount')
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff')
    expect(reply.headers.get('cache-control')).toBe('no-store')
  })

  it('a call with neither Origin nor Sec-Fetch-Site is refused', async () => {
    const reply = await callServerFn(server, dashboardSummaryId, { cookie, headers: {} })
    expect(reply.status).toBe(403)
    expect(reply.body.error?.appCode).toBe('CSRF_REJECTED')
  })

  it('the same call from our own page works (the other side)', async () => {
    const reply = await callServerFn(server, dashboardSummaryId, { cookie, headers: { 'sec-fetch-site': 'same-origin', origin: server.url } })
    expect(reply.status).toBe(200)
    expect(reply.body.result).toEqual({ activeSessionCount: 1, organizationName: 'Victim Org' })
  })
})

describe('the server-function endpoint itself', () => {
  it('a cross-site form post to any server-function URL is refused before the function is even looked up', async () => {
    const response = await fetch(`${server.url}/_serverFn/${'0'.repeat(64)}`, {
      method: 'POST',
      headers: { origin: EVIL_ORIGIN, 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    })
    expect(response.status).toBe(403)
    expect(await response.text()).toContain('CSRF_REJECTED')
  })
})

/**
 * Path-spelling bypass (black-box review): the pipeline classified the raw, percent-encoded path,
 * so `/%5FserverFn/<id>` looked like a page GET and got no CSRF check, while Start decoded it and
 * ran the function with the victim's cookie (200, the victim's data, no `[csrf]` line).
 */
describe('server functions and API routes at another spelling of their path', () => {
  let cookie: string
  let dashboardSummaryId: string

  beforeAll(() => {
    dashboardSummaryId = findBuiltServerFnId('getDashboardSummary')
  })
  beforeEach(async () => {
    await resetWrites()
    cookie = await signInOverHttp(server, VICTIM)
  })

  const spellings = [
    ['an encoded underscore', (id: string) => `/%5FserverFn/${id}`],
    ['an encoded underscore in lower case', (id: string) => `/%5fserverFn/${id}`],
    ['an encoded letter', (id: string) => `/_server%46n/${id}`],
  ] as const

  it.each(spellings)("a cross-site call through %s is refused with CSRF_REJECTED, logged, and reads nothing", async (_label, spell) => {
    const path = spell(dashboardSummaryId)
    const before = await countRows(server.databaseUrl)
    const response = await fetch(`${server.url}${path}`, { headers: { 'x-tsr-serverfn': 'true', origin: EVIL_ORIGIN, 'sec-fetch-site': 'cross-site', cookie } })
    const text = await response.text()
    expect(response.status).toBe(403)
    expect(text).toContain('CSRF_REJECTED')
    expect(text).not.toContain('activeSessionCount')
    expect(server.output()).toContain(`[csrf] refused GET ${path}: cross-site-fetch`)
    expect(await countRows(server.databaseUrl)).toEqual(before)
  })

  it('the other side: the same encoded spelling from our own page still reaches the function (Start serves it)', async () => {
    const response = await fetch(`${server.url}/%5FserverFn/${dashboardSummaryId}`, { headers: { 'x-tsr-serverfn': 'true', 'sec-fetch-site': 'same-origin', cookie } })
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('activeSessionCount')
  })

  it.each([
    ['an encoded letter', '/%61pi/trpc/auth.signOut'],
    ['upper case (Start routes case-insensitively)', '/API/trpc/auth.signOut'],
    ['a leading double slash', '//api/trpc/auth.signOut'],
  ])("a cross-site tRPC mutation through %s is refused in tRPC's shape and signs nobody out", async (_label, path) => {
    const before = await countRows(server.databaseUrl)
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { origin: EVIL_ORIGIN, 'content-type': 'application/json', cookie }, body: '{}', redirect: 'manual' })
    await expectCsrfRefusal(response)
    expect(await countRows(server.databaseUrl)).toEqual(before)
    expect(await getViewer(server, cookie)).toMatchObject({ user: { email: VICTIM } })
  })

  it('a same-origin text/plain mutation through an encoded /api/ is refused as non-JSON, as at the canonical path', async () => {
    const response = await fetch(`${server.url}/%61pi/trpc/auth.signOut`, {
      method: 'POST',
      headers: { origin: server.url, 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain', cookie },
      body: '{}',
      redirect: 'manual',
    })
    await expectCsrfRefusal(response)
    expect(server.output()).toContain('[csrf] refused POST /%61pi/trpc/auth.signOut: non-json-body')
    expect(await getViewer(server, cookie)).toMatchObject({ user: { email: VICTIM } })
  })

  it('a request that passes every check at an encoded /api/trpc spelling is sent to the canonical path, never run there', async () => {
    const response = await fetch(`${server.url}/%61pi/trpc/auth.me?input=%7B%7D`, { headers: { cookie }, redirect: 'manual' })
    expect(response.status).toBe(308)
    expect(response.headers.get('location')).toBe('/api/trpc/auth.me?input=%7B%7D')
  })

  it('a method the route table does not list is refused at an encoded spelling too (405, not a page)', async () => {
    const response = await fetch(`${server.url}/%61pi/auth/saml/abc/acs`, { method: 'PUT' })
    expect(response.status).toBe(405)
    // The assertion consumer's own method list, not a page's (GET, HEAD).
    expect(response.headers.get('allow')).toBe('POST')
  })

  it('a native form post to a protocol-relative path (//evil.example/) is sent back to our own path, not to another host', async () => {
    const response = await fetch(`${server.url}//evil.example/`, { method: 'POST', headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1', redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/evil.example/')
  })
})
