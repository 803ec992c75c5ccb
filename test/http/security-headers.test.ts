/**
 * Security headers and `Cache-Control: no-store` on authenticated responses (SPEC §7): nothing
 * rendered for a signed-in user may be kept by a shared cache or the browser's disk cache.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { RunningAppServer } from '../setup/app-server'
import { issueOneTimeToken } from '../../src/server/auth/one-time-tokens'
import { createDatabase } from '../../src/server/db/client'
import { createPasswordUser, findBuiltServerFnId, getTrpc, postTrpc, signInOverHttp, startSecurityTestServer, TEST_PASSWORD, withConnection, type TrpcErrorBody } from './security-support'

const EMAIL = 'headers@headers.test'

let server: RunningAppServer
let cookie: string

beforeAll(async () => {
  server = await startSecurityTestServer(inject('runId'), 'headers')
  await createPasswordUser(server.databaseUrl, { email: EMAIL })
  cookie = await signInOverHttp(server, EMAIL)
})
afterAll(async () => {
  await server?.stop()
})

function expectSecurityHeaders(response: Response): void {
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
  expect(response.headers.get('x-content-type-options')).toBe('nosniff')
  expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin')
  expect(response.headers.get('x-frame-options')).toBe('DENY')
}

describe('authenticated responses are never cached', () => {
  it('a server-rendered page requested with a session cookie is no-store and carries the security headers', async () => {
    const response = await fetch(server.url, { headers: { cookie, accept: 'text/html' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expectSecurityHeaders(response)
  })

  it('auth.me with a session cookie is no-store and carries the security headers', async () => {
    const response = await getTrpc(server, 'auth.me', undefined, { cookie })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { result: { data: { user: { email: string } } } }).result.data.user.email).toBe(EMAIL)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expectSecurityHeaders(response)
  })

  it('a protected query (sessions.list) is no-store', async () => {
    const response = await getTrpc(server, 'sessions.list', undefined, { cookie })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('the sign-in response that sets the cookie is no-store', async () => {
    const response = await postTrpc(server, 'auth.signIn', { email: EMAIL, password: TEST_PASSWORD })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('a request with a dead or forged session cookie is no-store too (the answer still depends on the cookie)', async () => {
    const response = await getTrpc(server, 'auth.me', undefined, { cookie: 'gatehouse_session=aaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })
})

describe('Content-Security-Policy with a per-request nonce (XSS defence)', () => {
  async function pageWithPolicy() {
    const response = await fetch(`${server.url}/login`, { headers: { accept: 'text/html' } })
    const html = await response.text()
    const policy = response.headers.get('content-security-policy') ?? ''
    const scriptSrc = policy.split(';').map((directive) => directive.trim()).find((directive) => directive.startsWith('script-src')) ?? ''
    return { html, scriptSrc }
  }

  it('allows inline scripts only with this response’s nonce — never with unsafe-inline', async () => {
    const { html, scriptSrc } = await pageWithPolicy()
    expect(scriptSrc).not.toContain("'unsafe-inline'")
    expect(scriptSrc).not.toContain("'unsafe-eval'")
    const nonce = scriptSrc.match(/'nonce-([A-Za-z0-9+/=]+)'/)?.[1]
    expect(nonce).toBeDefined()
    // Every script the page carries is stamped with that nonce, so the page still hydrates …
    const scriptTags = html.match(/<script\b[^>]*>/g) ?? []
    expect(scriptTags.length).toBeGreaterThan(0)
    for (const tag of scriptTags) expect(tag).toContain(`nonce="${nonce}"`)
  })

  it('uses a fresh nonce on every response, so a nonce seen once is useless to an attacker', async () => {
    const first = await pageWithPolicy()
    const second = await pageWithPolicy()
    expect(first.scriptSrc).not.toBe(second.scriptSrc)
  })
})

/** The security headers every response of the app carries. */
const SECURITY_HEADERS = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-frame-options', 'cross-origin-opener-policy', 'permissions-policy']

/**
 * Status and header names exactly as they came over the wire. `fetch` folds a repeated header into
 * one comma-joined value (and `get()` of two equal values reads almost like one), so a duplicate can
 * only be seen in the raw header list.
 */
function rawHeaderNames(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; names: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, names: res.rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase()) }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('each security header is sent exactly once (a repeated header is ambiguous to browsers and caches)', () => {
  const browser = { accept: 'text/html', 'sec-fetch-site': 'same-origin' }
  const cases: Array<[string, string, { method?: string; headers?: Record<string, string> }?]> = [
    ['a public page rendered by Start', '/login'],
    ['a signed-in page rendered by Start', '/app'],
    ['a page that redirects (signed out)', '/app'],
    ['a page that does not exist (404)', '/no-such-page'],
    ['a page answered with HEAD', '/login', { method: 'HEAD' }],
    ['a tRPC query', '/api/trpc/auth.me'],
    ['a server route', '/api/health'],
    ['a refusal the pipeline writes itself (405)', '/login', { method: 'DELETE' }],
  ]

  it.each(cases)('%s', async (label, path, options = {}) => {
    const headers = { ...browser, ...(label.startsWith('a signed-in') ? { cookie } : {}), ...options.headers }
    const { names } = await rawHeaderNames(`${server.url}${path}`, { ...options, headers })
    for (const name of SECURITY_HEADERS) expect({ name, count: names.filter((candidate) => candidate === name).length }).toEqual({ name, count: 1 })
  })

  it('a server-function call (answered in Start\'s wire format)', async () => {
    const { status, names } = await rawHeaderNames(`${server.url}/_serverFn/${findBuiltServerFnId('getDashboardSummary')}`, { headers: { 'x-tsr-serverfn': 'true', 'sec-fetch-site': 'same-origin', cookie } })
    expect(status).toBe(200)
    for (const name of SECURITY_HEADERS) expect({ name, count: names.filter((candidate) => candidate === name).length }).toEqual({ name, count: 1 })
  })
})

/**
 * One-time links (reset, verification) carry their secret in the URL. Black-box review: the page
 * had no `Cache-Control` (a shared cache could keep a page whose URL opens an account), the default
 * Referrer-Policy, the token in the SSR HTML, and a second request putting the token in a query
 * string (`GET /api/trpc/auth.describeOneTimeLink?input={"token":…}`: access and proxy logs).
 */
describe('pages whose URL carries a secret (one-time links)', () => {
  async function issueToken(purpose: 'password_reset' | 'email_verification'): Promise<string> {
    const email = `link-${purpose}-${Date.now()}@headers.test`
    const { id } = await createPasswordUser(server.databaseUrl, { email })
    if (purpose === 'email_verification') await withConnection(server.databaseUrl, (connection) => connection.query('UPDATE users SET email_verified_at = NULL WHERE id = ?', [id]))
    const { db, pool } = createDatabase(server.databaseUrl, { connectionLimit: 1 })
    try {
      return await issueOneTimeToken(db, { userId: id, purpose, email }, new Date())
    } finally {
      await pool.end()
    }
  }

  it.each([
    ['/reset-password', 'password_reset', 'Change password'],
    ['/verify-email', 'email_verification', 'Verifying your email'],
  ] as const)('%s?token=… is no-store and no-referrer, and its HTML never contains the token', async (path, purpose, expectedText) => {
    const token = await issueToken(purpose)
    const response = await fetch(`${server.url}${path}?token=${token}`, { headers: { accept: 'text/html' } })
    const html = await response.text()
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    // The first HTML already knows what the link is (a usable one: the form, or the verification step) …
    expect(html).toContain(expectedText)
    // … without the token written into it (dehydrated query keys, router match ids).
    expect(html).not.toContain(token)

    const { names } = await rawHeaderNames(`${server.url}${path}?token=${token}`, { headers: { accept: 'text/html' } })
    for (const name of [...SECURITY_HEADERS, 'cache-control']) expect({ name, count: names.filter((candidate) => candidate === name).length }).toEqual({ name, count: 1 })
  })

  it('an unknown token gets the same headers, and the first HTML says the link does not work', async () => {
    const response = await fetch(`${server.url}/reset-password?token=${'x'.repeat(43)}`, { headers: { accept: 'text/html' } })
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    expect(await response.text()).toContain('This link doesn’t work')
  })

  it.each(['/reset-password', '/verify-email'])('%s with the token twice is a link that does not work, not a 500 (found by review)', async (path) => {
    const response = await fetch(`${server.url}${path}?token=a&token=b`, { headers: { accept: 'text/html' } })
    const html = await response.text()
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(html).not.toContain('charCodeAt')
  })

  it('the link lookup cannot be made with the token in a query string any more (tRPC refuses it as GET)', async () => {
    const token = await issueToken('password_reset')
    const response = await getTrpc(server, 'auth.describeOneTimeLink', { token, purpose: 'password_reset' })
    expect(response.status).toBe(405)
    expect(((await response.json()) as TrpcErrorBody).error.data.code).toBe('METHOD_NOT_SUPPORTED')
  })

  it('the other side: the lookup works as a same-origin POST with the token in the body', async () => {
    const token = await issueToken('password_reset')
    const response = await postTrpc(server, 'auth.describeOneTimeLink', { token, purpose: 'password_reset' })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ result: { data: { status: 'valid' } } })
  })

  it('the SSO error page, shown at callback URLs that carry a code or a ticket, sends no Referer either', async () => {
    const response = await fetch(`${server.url}/api/auth/oidc/${'a'.repeat(26)}/callback?code=secret-code&state=secret-state`, { headers: { accept: 'text/html' } })
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('pages without a secret in their URL keep the default policy', async () => {
    const response = await fetch(`${server.url}/forgot-password`, { headers: { accept: 'text/html' } })
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin')
  })
})
