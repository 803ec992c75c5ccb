/**
 * Helpers for the HTTP security tests: a browser-like tRPC client over real HTTP (our Origin,
 * `Sec-Fetch-Site: same-origin`, JSON), users written straight into the server's database, and
 * row counts to prove that a refused request wrote nothing.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import mysql from 'mysql2/promise'
import { hashPassword } from '../../src/server/auth/password'
import { createDatabase } from '../../src/server/db/client'
import { createOrganization, createUser, type Role } from '../../src/server/users/users'
import { startAppServer, type RunningAppServer } from '../setup/app-server'

export const TEST_PASSWORD = 'a perfectly long test password'

/**
 * The production server for these tests. Mail stays in the database outbox (no SMTP relay runs
 * here); `databaseUrl` lets several instances share one database.
 */
export function startSecurityTestServer(runId: string, name: string, options: { databaseUrl?: string; env?: Record<string, string> } = {}): Promise<RunningAppServer> {
  return startAppServer({ runId, name, databaseUrl: options.databaseUrl, env: { MAIL_TRANSPORT: 'outbox', ...options.env } })
}

/** Headers a same-origin `fetch` from the app's own page sends. */
export function sameOriginHeaders(appOrigin: string): Record<string, string> {
  return { origin: appOrigin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }
}

export type TrpcCallOptions = {
  cookie?: string
  /** Replaces the browser-like defaults entirely (for attack requests). */
  headers?: Record<string, string>
  /** Origin the app believes it is served from (APP_URL); defaults to the server's own URL. */
  appOrigin?: string
}

/** POSTs one mutation, as a browser on the app's page would (unless `headers` says otherwise). */
export function postTrpc(server: Pick<RunningAppServer, 'url'>, path: string, input: unknown, options: TrpcCallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers ?? sameOriginHeaders(options.appOrigin ?? server.url))
  if (options.cookie) headers.set('cookie', options.cookie)
  return fetch(`${server.url}/api/trpc/${path}`, { method: 'POST', headers, body: input === undefined ? undefined : JSON.stringify(input) })
}

/** GETs one query with an optional cookie. */
export function getTrpc(server: Pick<RunningAppServer, 'url'>, path: string, input?: unknown, options: { cookie?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers = new Headers(options.headers)
  if (options.cookie) headers.set('cookie', options.cookie)
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`
  return fetch(`${server.url}/api/trpc/${path}${query}`, { headers })
}

/** `name=value` of the session cookie a response sets, or null. */
export function sessionCookieFrom(response: Response, cookieName = 'gatehouse_session'): string | null {
  const setCookie = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${cookieName}=`))
  return setCookie ? setCookie.split(';', 1)[0]! : null
}

/** Signs in over HTTP and returns the `name=value` cookie pair. */
export async function signInOverHttp(server: Pick<RunningAppServer, 'url'>, email: string, options: { appOrigin?: string; cookieName?: string } = {}): Promise<string> {
  const response = await postTrpc(server, 'auth.signIn', { email, password: TEST_PASSWORD }, { appOrigin: options.appOrigin })
  const body = await response.text()
  if (response.status !== 200) throw new Error(`sign-in failed (${response.status}): ${body}`)
  const cookie = sessionCookieFrom(response, options.cookieName)
  if (!cookie) throw new Error(`sign-in set no session cookie: ${response.headers.getSetCookie().join(' | ')}`)
  return cookie
}

/** The viewer `auth.me` reports for a cookie (null when signed out). */
export async function getViewer(server: Pick<RunningAppServer, 'url'>, cookie: string): Promise<{ user: { email: string } } | null> {
  const response = await getTrpc(server, 'auth.me', undefined, { cookie })
  const body = (await response.json()) as { result: { data: { user: { email: string } } | null } }
  return body.result.data
}

/** Creates a password user (optionally in a new organization) directly in the server's database. */
export async function createPasswordUser(databaseUrl: string, input: { email: string; role?: Role; organizationName?: string }): Promise<{ id: string }> {
  const { db, pool } = createDatabase(databaseUrl, { connectionLimit: 1 })
  try {
    const organization = input.organizationName
      ? await createOrganization(db, { name: input.organizationName, slug: input.organizationName.toLowerCase().replace(/[^a-z0-9]+/g, '-') })
      : null
    return await createUser(db, {
      email: input.email,
      name: input.email.split('@')[0]!,
      passwordHash: await hashPassword(TEST_PASSWORD),
      role: input.role ?? 'member',
      organizationId: organization?.id ?? null,
    })
  } finally {
    await pool.end()
  }
}

/** Runs `work` with a short-lived connection to the server's database. */
export async function withConnection<T>(databaseUrl: string, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: databaseUrl })
  try {
    return await work(connection)
  } finally {
    await connection.end()
  }
}

/** Row counts of the tables an auth request could write to. */
export async function countRows(databaseUrl: string, tables: string[] = ['users', 'sessions', 'rate_limit_buckets', 'audit_events']): Promise<Record<string, number>> {
  return withConnection(databaseUrl, async (connection) => {
    const counts: Record<string, number> = {}
    for (const table of tables) {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``)
      counts[table] = Number(rows[0]!.n)
    }
    return counts
  })
}

/** Deletes every rate-limit bucket, so one test's attempts do not spend the next test's budget. */
export async function clearRateLimits(databaseUrl: string): Promise<void> {
  await withConnection(databaseUrl, (connection) => connection.query('DELETE FROM rate_limit_buckets'))
}

/**
 * The id Start gave a server function in the production build, read from the server bundle's
 * function manifest (ids are hashes of file and export name).
 */
export function findBuiltServerFnId(exportName: string): string {
  const bundle = readFileSync(resolve(import.meta.dirname, '../../dist/server/server.js'), 'utf8')
  const match = new RegExp(`"([0-9a-f]{64}(?:_\\d+)?)":\\s*\\{\\s*functionName:\\s*"${exportName}_createServerFn_handler"`).exec(bundle)
  if (!match) {
    throw new Error(`${exportName} is not in dist/server/server.js: no route imports it yet, or the build is stale (npx vite build)`)
  }
  return match[1]!
}

/**
 * Decodes the small subset of Seroval's JSON that server-function responses use here (objects,
 * strings, numbers, constants, plugin payloads such as our app-error adapter). Enough to read a
 * result or an error without depending on Start's internal wire format elsewhere.
 */
export function decodeServerFnBody(node: unknown): unknown {
  if (node === null || typeof node !== 'object') return node
  const typed = node as { t: number; s?: unknown; p?: { k: string[]; v: unknown[] } }
  switch (typed.t) {
    case 0:
    case 1:
      return typed.s
    case 2:
      return [null, undefined, true, false][typed.s as number]
    case 10:
      return Object.fromEntries(typed.p!.k.map((key, index) => [key, decodeServerFnBody(typed.p!.v[index])]))
    case 25:
      return decodeServerFnBody((typed.s as { v: unknown }).v)
    default:
      return { unsupportedSerovalNode: typed.t }
  }
}

export type ServerFnReply = { status: number; headers: Headers; text: string; body: { result?: unknown; error?: { appCode?: string; message?: string; httpStatus?: number } } }

/** Calls a built server function over HTTP as Start's client does (GET, `x-tsr-serverfn`), same-origin unless `headers` says otherwise. */
export async function callServerFn(server: Pick<RunningAppServer, 'url'>, functionId: string, options: { cookie?: string; headers?: Record<string, string> } = {}): Promise<ServerFnReply> {
  const headers = new Headers({ 'x-tsr-serverfn': 'true', accept: 'application/json', ...(options.headers ?? { 'sec-fetch-site': 'same-origin' }) })
  if (options.cookie) headers.set('cookie', options.cookie)
  const response = await fetch(`${server.url}/_serverFn/${functionId}`, { headers })
  const text = await response.text()
  let body: ServerFnReply['body'] = {}
  try {
    body = decodeServerFnBody(JSON.parse(text)) as ServerFnReply['body']
  } catch {
    // Not JSON: the assertions look at `text`.
  }
  return { status: response.status, headers: response.headers, text, body }
}

/** A tRPC error body: one object, or one per call of a batch. */
export type TrpcErrorBody = { error: { message: string; data: { code: string; httpStatus: number; appCode: string | null } & Record<string, unknown> } }
