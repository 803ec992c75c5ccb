/**
 * Production errors leak nothing (SPEC §7): no stack trace, no SQL, no file path, no secret, for
 * malformed requests and for genuine internal failures. The internal failures are real: the
 * server runs as a database user whose privileges the test takes away mid-flight, so the driver
 * throws exactly the error a production outage or misgrant would.
 */
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { RunningAppServer } from '../setup/app-server'
import { createPasswordUser, findBuiltServerFnId, getTrpc, postTrpc, signInOverHttp, startSecurityTestServer, TEST_PASSWORD, type TrpcErrorBody } from './security-support'

const APP_SECRET = randomBytes(32).toString('base64url')
const EMAIL = 'errors@errors.test'

/** Everything an error body must never contain. */
function expectNothingLeaked(text: string, extraSecrets: string[] = []): void {
  expect(text).not.toMatch(/"stack"|\bat .+:\d+:\d+|node_modules|dist\/server|\/work\//)
  expect(text).not.toMatch(/\b(SELECT|INSERT|UPDATE|DELETE)\b|denied|\bER_[A-Z_]+|rate_limit_buckets|`sessions`|sql/i)
  for (const secret of [APP_SECRET, ...extraSecrets]) expect(text).not.toContain(secret)
}

describe('malformed requests get a clear 4xx and no internals', () => {
  let server: RunningAppServer

  beforeAll(async () => {
    server = await startSecurityTestServer(inject('runId'), 'errors', { env: { APP_SECRET } })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.each([
    ['a body that is not JSON', () => fetch(`${server.url}/api/trpc/auth.signIn`, { method: 'POST', headers: { origin: server.url, 'content-type': 'application/json' }, body: '{"email": ' }), 400],
    ['an input that fails validation', () => postTrpc(server, 'auth.signIn', { email: 'not an email', password: '', extra: true }), 400],
    ['an oversized password (bounded before hashing)', () => postTrpc(server, 'auth.signIn', { email: 'a@b.test', password: 'x'.repeat(100_000) }), 400],
    ['an unknown procedure', () => postTrpc(server, 'auth.doesNotExist', {}), 404],
    ['a protected query without a session', () => getTrpc(server, 'sessions.list'), 401],
    ['a batch larger than the server accepts', () => postTrpc(server, `${Array.from({ length: 51 }, () => 'auth.signIn').join(',')}?batch=1`, {}), 400],
    ['a batch input that is not an object', () => postTrpc(server, 'auth.signIn,auth.signIn?batch=1', [1, 2]), 400],
  ])('%s', async (_label, send, status) => {
    const response = await send()
    expect(response.status).toBe(status)
    const text = await response.text()
    expect(() => JSON.parse(text)).not.toThrow()
    expectNothingLeaked(text)
  })
})

describe('genuine internal failures answer a generic 500', () => {
  let server: RunningAppServer
  let admin: mysql.Connection
  let databaseName: string
  const user = `ghe_${inject('runId')}`.slice(0, 32)
  const password = randomBytes(12).toString('hex')
  let cookie: string

  beforeAll(async () => {
    const owner = await startSecurityTestServer(inject('runId'), 'internal')
    await owner.stop()
    await createPasswordUser(owner.databaseUrl, { email: EMAIL, organizationName: 'Errors Org' })
    databaseName = new URL(owner.databaseUrl).pathname.slice(1)
    admin = await mysql.createConnection({ uri: inject('testServerUrl') })
    await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`)
    // Table-level grants: unlike database-level ones, revoking them applies to open pooled
    // connections at their next statement.
    const [tables] = await admin.query<mysql.RowDataPacket[]>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?', [databaseName])
    for (const table of tables) await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${databaseName}\`.\`${table.name}\` TO '${user}'@'127.0.0.1'`)
    const limitedUrl = new URL(owner.databaseUrl)
    limitedUrl.username = user
    limitedUrl.password = password
    server = await startSecurityTestServer(inject('runId'), 'internal', { databaseUrl: limitedUrl.toString(), env: { APP_SECRET } })
    cookie = await signInOverHttp(server, EMAIL)
  })
  afterAll(async () => {
    await server?.stop()
    await admin?.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`)
    await admin?.end()
  })

  async function withRevoked<T>(privilege: string, table: string, work: () => Promise<T>): Promise<T> {
    await admin.query(`REVOKE ${privilege} ON \`${databaseName}\`.\`${table}\` FROM '${user}'@'127.0.0.1'`)
    try {
      return await work()
    } finally {
      await admin.query(`GRANT ${privilege} ON \`${databaseName}\`.\`${table}\` TO '${user}'@'127.0.0.1'`)
    }
  }

  it('a tRPC mutation whose SQL the database refuses answers "Something went wrong." without the SQL', async () => {
    const response = await withRevoked('INSERT', 'rate_limit_buckets', () => postTrpc(server, 'auth.signIn', { email: EMAIL, password: TEST_PASSWORD }))
    expect(response.status).toBe(500)
    const text = await response.text()
    expect((JSON.parse(text) as TrpcErrorBody).error).toMatchObject({ message: 'Something went wrong.', data: { code: 'INTERNAL_SERVER_ERROR', appCode: null } })
    expectNothingLeaked(text, [password, user])
    // The operator's log has the cause.
    expect(server.output()).toMatch(/\[trpc\] auth\.signIn failed:[\s\S]*INSERT command denied/)
  })

  it('a session lookup that fails inside auth.me answers a generic 500', async () => {
    const response = await withRevoked('SELECT', 'sessions', () => getTrpc(server, 'auth.me', undefined, { cookie }))
    expect(response.status).toBe(500)
    const text = await response.text()
    expect((JSON.parse(text) as TrpcErrorBody).error.message).toBe('Something went wrong.')
    expectNothingLeaked(text, [password, user, cookie.split('=')[1]!])
  })

  it('a server function whose guard hits a database error answers a generic 500 (Start would otherwise send the driver message)', async () => {
    const url = `${server.url}/_serverFn/${findBuiltServerFnId('getDashboardSummary')}`
    const response = await withRevoked('SELECT', 'sessions', () =>
      fetch(url, { headers: { 'x-tsr-serverfn': 'true', accept: 'application/json', 'sec-fetch-site': 'same-origin', cookie } }),
    )
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).toContain('Something went wrong.')
    expectNothingLeaked(text, [password, user, cookie.split('=')[1]!])
    expect(server.output()).toMatch(/\[server-fn\] getDashboardSummary failed:[\s\S]*SELECT command denied/)
  })

  it('the same calls work again once the privilege is back (the failures were the database, not the requests)', async () => {
    const response = await getTrpc(server, 'auth.me', undefined, { cookie })
    expect(response.status).toBe(200)
  })
})
