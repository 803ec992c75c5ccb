/**
 * Server functions are as reachable as tRPC procedures (SPEC §3), so the guarded
 * `getDashboardSummary` is attacked directly over HTTP, the way a script would call it without
 * the UI: anonymous, forged, revoked, MFA owed, MFA enrollment owed — and then used properly.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { RunningAppServer } from '../setup/app-server'
import {
  callServerFn,
  createPasswordUser,
  findBuiltServerFnId,
  postTrpc,
  signInOverHttp,
  startSecurityTestServer,
  TEST_PASSWORD,
  withConnection,
  type ServerFnReply,
} from './security-support'

let server: RunningAppServer
let dashboardSummaryId: string
let organizationSummaryId: string

beforeAll(async () => {
  dashboardSummaryId = findBuiltServerFnId('getDashboardSummary')
  organizationSummaryId = findBuiltServerFnId('getOrganizationSummary')
  server = await startSecurityTestServer(inject('runId'), 'serverfns')
  await createPasswordUser(server.databaseUrl, { email: 'member@acme.test', organizationName: 'Acme' })
  await createPasswordUser(server.databaseUrl, { email: 'solo@nowhere.test' })
  await createPasswordUser(server.databaseUrl, { email: 'mfa@mfa.test' })
  await createPasswordUser(server.databaseUrl, { email: 'unenrolled@strict.test', organizationName: 'Strict' })
  await createPasswordUser(server.databaseUrl, { email: 'boss@summary.test', role: 'admin', organizationName: 'Summary' })
  await createPasswordUser(server.databaseUrl, { email: 'staff@summary.test', role: 'member' })
  await createPasswordUser(server.databaseUrl, { email: 'enrolled@summary.test', role: 'member' })
  await withConnection(server.databaseUrl, async (connection) => {
    // A user with a second factor (only its existence matters to the guard) and an organization
    // whose policy requires one.
    await connection.query("UPDATE users SET mfa_enabled_at = UTC_TIMESTAMP() WHERE email = 'mfa@mfa.test'")
    await connection.query("UPDATE organizations SET mfa_policy = 'required' WHERE name = 'Strict'")
    await connection.query(
      "UPDATE users SET organization_id = (SELECT id FROM organizations WHERE name = 'Summary') WHERE email IN ('staff@summary.test', 'enrolled@summary.test')",
    )
    await connection.query("UPDATE users SET mfa_enabled_at = UTC_TIMESTAMP() WHERE email = 'enrolled@summary.test'")
  })
})
afterAll(async () => {
  await server?.stop()
})

function expectRefused(reply: ServerFnReply, status: number, appCode: string): void {
  expect(reply.status).toBe(status)
  expect(reply.body.error).toMatchObject({ appCode, httpStatus: status })
  // Refused before the handler: no summary in the body.
  expect(reply.text).not.toContain('activeSessionCount')
}

describe('getDashboardSummary guard (requireSessionMiddleware)', () => {
  it('an anonymous call is refused with UNAUTHENTICATED (401)', async () => {
    expectRefused(await callServerFn(server, dashboardSummaryId), 401, 'UNAUTHENTICATED')
  })

  it('a forged session cookie is refused with UNAUTHENTICATED', async () => {
    const forged = 'gatehouse_session=aaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
    expectRefused(await callServerFn(server, dashboardSummaryId, { cookie: forged }), 401, 'UNAUTHENTICATED')
  })

  it('a signed-out session cookie is refused with UNAUTHENTICATED (revocation applies to server functions)', async () => {
    const cookie = await signInOverHttp(server, 'member@acme.test')
    expect((await postTrpc(server, 'auth.signOut', undefined, { cookie })).status).toBe(200)
    expectRefused(await callServerFn(server, dashboardSummaryId, { cookie }), 401, 'UNAUTHENTICATED')
  })

  it('a password-only session of an MFA user (factor still owed) is refused with MFA_REQUIRED', async () => {
    const response = await postTrpc(server, 'auth.signIn', { email: 'mfa@mfa.test', password: TEST_PASSWORD })
    expect(await response.json()).toMatchObject({ result: { data: { status: 'mfa-required' } } })
    const cookie = response.headers.getSetCookie()[0]!.split(';', 1)[0]!
    expectRefused(await callServerFn(server, dashboardSummaryId, { cookie }), 401, 'MFA_REQUIRED')
  })

  it('a user whose organization requires MFA and who has not enrolled is refused with MFA_ENROLLMENT_REQUIRED (403)', async () => {
    const cookie = await signInOverHttp(server, 'unenrolled@strict.test')
    expectRefused(await callServerFn(server, dashboardSummaryId, { cookie }), 403, 'MFA_ENROLLMENT_REQUIRED')
  })

  it('a fully signed-in member gets their own live session count and organization, never cached', async () => {
    const first = await signInOverHttp(server, 'member@acme.test')
    await signInOverHttp(server, 'member@acme.test')
    const reply = await callServerFn(server, dashboardSummaryId, { cookie: first })
    expect(reply.status).toBe(200)
    expect(reply.body.result).toEqual({ activeSessionCount: 2, organizationName: 'Acme' })
    expect(reply.headers.get('cache-control')).toBe('no-store')
  })

  it('a user without an organization gets a null organization name', async () => {
    const cookie = await signInOverHttp(server, 'solo@nowhere.test')
    const reply = await callServerFn(server, dashboardSummaryId, { cookie })
    expect(reply.body.result).toEqual({ activeSessionCount: 1, organizationName: null })
  })
})

describe('getOrganizationSummary guard (requireRoleMiddleware)', () => {
  it('an anonymous call is refused with UNAUTHENTICATED before the handler', async () => {
    const reply = await callServerFn(server, organizationSummaryId)
    expect(reply.status).toBe(401)
    expect(reply.body.error).toMatchObject({ appCode: 'UNAUTHENTICATED' })
    expect(reply.text).not.toContain('memberCount')
  })

  it('a member of the organization is refused with FORBIDDEN (403): the role is checked on the server, not only in the UI', async () => {
    const cookie = await signInOverHttp(server, 'staff@summary.test')
    const reply = await callServerFn(server, organizationSummaryId, { cookie })
    expect(reply.status).toBe(403)
    expect(reply.body.error).toMatchObject({ appCode: 'FORBIDDEN', httpStatus: 403 })
    expect(reply.text).not.toContain('memberCount')
  })

  it("an admin gets their own organization's numbers, and nobody else's", async () => {
    const cookie = await signInOverHttp(server, 'boss@summary.test')
    const reply = await callServerFn(server, organizationSummaryId, { cookie })
    expect(reply.status).toBe(200)
    // boss, staff and enrolled (who has MFA); live sessions: boss's and staff's from the test above.
    expect(reply.body.result).toEqual({ memberCount: 3, mfaEnabledCount: 1, activeSessionCount: 2 })
  })
})

describe('unknown server-function ids (probing)', () => {
  it('an id that does not exist answers 404 NOT_FOUND, never a 500 or Start’s internal message', async () => {
    const reply = await callServerFn(server, '0'.repeat(64))
    expect(reply.status).toBe(404)
    expect(reply.body.error).toMatchObject({ appCode: 'NOT_FOUND', httpStatus: 404 })
    expect(reply.text).not.toContain('Server function info')
    const posted = await fetch(`${server.url}/_serverFn/${'f'.repeat(64)}`, {
      method: 'POST',
      headers: { 'x-tsr-serverfn': 'true', 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: '{}',
    })
    expect(posted.status).toBe(404)
  })

  it.each([
    ['an empty id followed by a segment', '/_serverFn//x'],
    ['no id at all', '/_serverFn/'],
    ['an empty id at an encoded spelling', '/%5FserverFn//x'],
  ])('%s answers 404, not a 500 with a stack in the log', async (_label, path) => {
    const logBefore = server.output().length
    const callers: Record<string, string>[] = [{ 'sec-fetch-site': 'same-origin' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }]
    for (const headers of callers) {
      const response = await fetch(`${server.url}${path}`, { headers: { 'x-tsr-serverfn': 'true', ...headers } })
      expect(response.status).toBe(404)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(await response.text()).not.toMatch(/Invalid server action|HTTPError/)
    }
    expect(server.output().slice(logBefore)).not.toMatch(/Invalid server action|Error:/)
  })
})
