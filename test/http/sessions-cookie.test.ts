/**
 * The session cookie and what the database keeps of it, over real HTTP against the production
 * build (SPEC §2): flags on http and https, the `__Host-` prefix, and hashes only at rest.
 */
import { createHash } from 'node:crypto'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { RunningAppServer } from '../setup/app-server'
import { createPasswordUser, getTrpc, postTrpc, signInOverHttp, startSecurityTestServer, TEST_PASSWORD, withConnection } from './security-support'

/** Attributes of one Set-Cookie value, lower-cased names. */
function parseSetCookie(setCookie: string): { name: string; value: string; attributes: Map<string, string> } {
  const [pair, ...rest] = setCookie.split(';').map((part) => part.trim())
  const separator = pair!.indexOf('=')
  const attributes = new Map(rest.map((attribute) => {
    const [key, ...value] = attribute.split('=')
    return [key!.toLowerCase(), value.join('=')] as const
  }))
  return { name: pair!.slice(0, separator), value: pair!.slice(separator + 1), attributes }
}

function sessionSetCookie(response: Response, name: string) {
  const raw = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`))
  expect(raw, `Set-Cookie for ${name}`).toBeDefined()
  return parseSetCookie(raw!)
}

describe('session cookie on a plain-http (loopback) deployment', () => {
  let server: RunningAppServer

  beforeAll(async () => {
    server = await startSecurityTestServer(inject('runId'), 'cookie_http')
    await createPasswordUser(server.databaseUrl, { email: 'flags@cookie.test' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('is HttpOnly, SameSite=Lax, Path=/, without Domain (script theft, cross-site sends and subdomain scope all closed)', async () => {
    const response = await postTrpc(server, 'auth.signIn', { email: 'flags@cookie.test', password: TEST_PASSWORD })
    expect(response.status).toBe(200)
    const cookie = sessionSetCookie(response, 'gatehouse_session')
    expect(cookie.attributes.has('httponly')).toBe(true)
    expect(cookie.attributes.get('samesite')).toBe('Lax')
    expect(cookie.attributes.get('path')).toBe('/')
    expect(cookie.attributes.has('domain')).toBe(false)
    // http://127.0.0.1: a Secure cookie would never come back, and __Host- requires Secure.
    expect(cookie.attributes.has('secure')).toBe(false)
    expect(cookie.value).toMatch(/^[a-z2-7]{26}\.[a-z2-7]{32}$/)
  })

  it('is cleared on sign-out with the same scope (Max-Age=0, Path=/, no Domain)', async () => {
    const cookie = await signInOverHttp(server, 'flags@cookie.test')
    const response = await postTrpc(server, 'auth.signOut', undefined, { cookie })
    const cleared = sessionSetCookie(response, 'gatehouse_session')
    expect(cleared.value).toBe('')
    expect(cleared.attributes.get('max-age')).toBe('0')
    expect(cleared.attributes.get('path')).toBe('/')
    expect(cleared.attributes.has('domain')).toBe(false)
  })

  it('the database holds only a hash: the secret half of the cookie appears in no column of any table', async () => {
    const cookie = await signInOverHttp(server, 'flags@cookie.test')
    const [id, secret] = cookie.split('=')[1]!.split('.') as [string, string]
    await withConnection(server.databaseUrl, async (connection) => {
      const [sessionRows] = await connection.query<mysql.RowDataPacket[]>('SELECT * FROM sessions WHERE id = ?', [id])
      expect(sessionRows).toHaveLength(1)
      expect(sessionRows[0]!.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'))

      const [tables] = await connection.query<mysql.RowDataPacket[]>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()",
      )
      expect(tables.map((table) => table.name)).toContain('sessions')
      for (const table of tables) {
        const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${table.name}\``)
        for (const row of rows) {
          for (const [column, value] of Object.entries(row)) {
            const text = value instanceof Buffer ? value.toString('utf8') : String(value)
            expect(text.includes(secret), `${table.name}.${column} contains the session secret`).toBe(false)
          }
        }
      }
    })
  })
})

describe('session cookie on an https deployment', () => {
  // Production accepts https://localhost as APP_URL; the process itself speaks plain http, as it
  // would behind a TLS-terminating proxy, and browsers on the app's page send that https Origin.
  const appOrigin = 'https://localhost:8443'
  let server: RunningAppServer

  beforeAll(async () => {
    server = await startSecurityTestServer(inject('runId'), 'cookie_https', { env: { APP_URL: appOrigin } })
    await createPasswordUser(server.databaseUrl, { email: 'tls@cookie.test' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('is named __Host-gatehouse_session and is Secure, HttpOnly, SameSite=Lax, Path=/, without Domain', async () => {
    const response = await postTrpc(server, 'auth.signIn', { email: 'tls@cookie.test', password: TEST_PASSWORD }, { appOrigin })
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie().some((cookie) => cookie.startsWith('gatehouse_session='))).toBe(false)
    const cookie = sessionSetCookie(response, '__Host-gatehouse_session')
    expect(cookie.attributes.has('secure')).toBe(true)
    expect(cookie.attributes.has('httponly')).toBe(true)
    expect(cookie.attributes.get('samesite')).toBe('Lax')
    expect(cookie.attributes.get('path')).toBe('/')
    expect(cookie.attributes.has('domain')).toBe(false)
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/)
  })

  it('a planted cookie without the __Host- prefix (cookie tossing from a sibling subdomain) is ignored', async () => {
    const hostCookie = await signInOverHttp(server, 'tls@cookie.test', { appOrigin, cookieName: '__Host-gatehouse_session' })
    const token = hostCookie.split('=')[1]!
    const viewer = async (cookie: string) => ((await (await getTrpc(server, 'auth.me', undefined, { cookie })).json()) as { result: { data: unknown } }).result.data
    expect(await viewer(hostCookie)).toMatchObject({ status: 'signed-in' })
    // The same valid token under the unprefixed name, which any subdomain could set, is not read.
    expect(await viewer(`gatehouse_session=${token}`)).toBeNull()
  })

  it('a request with the http origin of the same host is refused (scheme downgrade is another origin)', async () => {
    const response = await postTrpc(server, 'auth.signIn', { email: 'tls@cookie.test', password: TEST_PASSWORD }, { appOrigin: 'http://localhost:8443' })
    expect(response.status).toBe(403)
  })
})
