/**
 * Server-side request forgery through an SSO issuer (CWE-918, OWASP ASVS 12.6.1): the guarded fetch
 * every IdP request goes through, against a real HTTP server on loopback.
 *
 * Covered: plain http and private addresses refused unless the host is listed; a listed loopback
 * host over http allowed; a redirect to the cloud metadata address or a private network refused at
 * the hop; DNS rebinding (a name that passes the check, then resolves to loopback at connect time);
 * a redirect loop; an oversized or slow response; credentials not forwarded across origins.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkIssuerUrl, createGuardedFetch, guardedFetch, OutboundRequestError, type OutboundPolicy } from '../../src/server/sso/outbound-fetch'

let server: Server
let origin: string
const seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = []

const LISTED: OutboundPolicy = { allowedPrivateHosts: ['127.0.0.1', 'localhost'] }
const NOT_LISTED: OutboundPolicy = { allowedPrivateHosts: [] }

function handle(request: IncomingMessage, response: ServerResponse): void {
  let body = ''
  request.on('data', (chunk) => (body += chunk))
  request.on('end', () => {
    seen.push({ url: request.url!, headers: request.headers, body })
    const url = new URL(request.url!, origin)
    switch (url.pathname) {
      case '/json':
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }))
        return
      case '/echo':
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: request.method, body, contentType: request.headers['content-type'] }))
        return
      case '/redirect':
        response.writeHead(302, { location: url.searchParams.get('to')! }).end()
        return
      case '/loop':
        response.writeHead(302, { location: '/loop' }).end()
        return
      case '/big':
        response.writeHead(200, { 'content-type': 'application/octet-stream' })
        // No content-length: the cap must hold while streaming.
        response.write(Buffer.alloc(64 * 1024, 1))
        response.end(Buffer.alloc(64 * 1024, 1))
        return
      case '/slow':
        setTimeout(() => response.writeHead(200).end('late'), 2000)
        return
      default:
        response.writeHead(404).end()
    }
  })
}

beforeAll(async () => {
  server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(OutboundRequestError)
  return (error as OutboundRequestError).reason
}

describe('guardedFetch', () => {
  it('reaches a listed loopback host over plain http and returns a normal Response', async () => {
    const response = await guardedFetch(`${origin}/json`, {}, LISTED)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ ok: true })
  })

  it('sends a form body as openid-client does for the token request', async () => {
    const fetch = createGuardedFetch(LISTED)
    const response = await fetch(`${origin}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'abc' }),
    })
    expect(await response.json()).toEqual({ method: 'POST', body: 'grant_type=authorization_code&code=abc', contentType: 'application/x-www-form-urlencoded;charset=UTF-8' })
  })

  it('refuses loopback when the host is not listed, without connecting', async () => {
    const before = seen.length
    expect(await refusal(guardedFetch(`${origin}/json`, {}, NOT_LISTED))).toBe('private_address')
    expect(await refusal(guardedFetch(`${origin.replace('127.0.0.1', 'localhost')}/json`, {}, NOT_LISTED))).toBe('private_address')
    expect(seen.length).toBe(before)
  })

  it.each([
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', 'private_address'],
    ['a private network address', 'http://10.0.0.5/', 'private_address'],
    ['an IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]:1/', 'private_address'],
    ['unique-local IPv6', 'https://[fd00::1]/', 'private_address'],
    ['the unspecified address', 'http://0.0.0.0:1/', 'private_address'],
    ['a file URL', 'file:///etc/passwd', 'scheme_not_allowed'],
    ['credentials in the URL', 'https://user:pass@idp.example.com/', 'credentials_in_url'],
  ])('refuses %s', async (_label, url, reason) => {
    expect(await refusal(guardedFetch(url, {}, LISTED))).toBe(reason)
  })

  it('allows plain http only for listed loopback hosts, not for a listed private host', async () => {
    const policy: OutboundPolicy = { allowedPrivateHosts: ['idp.corp.test'], lookup: async () => [{ address: '10.1.2.3', family: 4 }] }
    expect(await refusal(guardedFetch('http://idp.corp.test/', {}, policy))).toBe('scheme_not_allowed')
  })

  it('refuses a public-looking name that resolves to a private address', async () => {
    const policy: OutboundPolicy = { allowedPrivateHosts: [], lookup: async () => [{ address: '93.184.216.34', family: 4 }, { address: '192.168.1.10', family: 4 }] }
    expect(await refusal(guardedFetch('https://idp.example.com/.well-known/openid-configuration', {}, policy))).toBe('private_address')
  })

  it('refuses DNS rebinding: the name passes the check, then resolves to loopback when the socket connects', async () => {
    let calls = 0
    const policy: OutboundPolicy = {
      allowedPrivateHosts: [],
      lookup: async () => (++calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]),
    }
    const port = (server.address() as AddressInfo).port
    expect(await refusal(guardedFetch(`https://rebind.example.com:${port}/json`, {}, policy))).toBe('private_address')
    expect(calls).toBe(2)
  })

  it('re-checks every redirect: to the metadata address, to a private network, to an unlisted loopback name', async () => {
    const before = seen.length
    for (const to of ['http://169.254.169.254/latest/meta-data/iam/', 'http://10.0.0.1/', 'http://[::1]/']) {
      expect(await refusal(guardedFetch(`${origin}/redirect?to=${encodeURIComponent(to)}`, {}, LISTED))).toBe('private_address')
    }
    // Only the first hop of each was made.
    expect(seen.length - before).toBe(3)
  })

  it('follows an allowed redirect, drops credentials across origins, and stops a loop', async () => {
    const crossOrigin = `${origin.replace('127.0.0.1', 'localhost')}/json`
    const response = await guardedFetch(`${origin}/redirect?to=${encodeURIComponent(crossOrigin)}`, { headers: { authorization: 'Bearer x' } }, LISTED)
    expect(await response.json()).toEqual({ ok: true })
    expect(seen.at(-2)!.headers.authorization).toBe('Bearer x')
    expect(seen.at(-1)!.headers.authorization).toBeUndefined()
    expect(await refusal(guardedFetch(`${origin}/loop`, {}, LISTED))).toBe('too_many_redirects')
  })

  it('does not follow a redirect of a POST (a token endpoint that redirects is an IdP error)', async () => {
    const response = await guardedFetch(`${origin}/redirect?to=/json`, { method: 'POST', body: 'x=1' }, LISTED)
    expect(response.status).toBe(302)
  })

  it('caps the response size and the time a request may take', async () => {
    expect(await refusal(guardedFetch(`${origin}/big`, {}, { ...LISTED, maxResponseBytes: 100 * 1024 }))).toBe('response_too_large')
    const startedAt = Date.now()
    expect(await refusal(guardedFetch(`${origin}/slow`, {}, { ...LISTED, timeoutMs: 300 }))).toBe('timeout')
    expect(Date.now() - startedAt).toBeLessThan(1500)
  })

  it("honours the caller's abort signal (openid-client's timeout)", async () => {
    expect(await refusal(guardedFetch(`${origin}/slow`, { signal: AbortSignal.timeout(200) }, LISTED))).toBe('timeout')
  })
})

describe('checkIssuerUrl', () => {
  it('accepts a public https issuer verbatim and a listed loopback http issuer as insecure', async () => {
    const publicPolicy: OutboundPolicy = { allowedPrivateHosts: [], lookup: async () => [{ address: '93.184.216.34', family: 4 }] }
    expect(await checkIssuerUrl('https://idp.example.com/tenant/', publicPolicy)).toEqual({ issuer: 'https://idp.example.com/tenant/', isInsecure: false })
    expect(await checkIssuerUrl(`${origin}/oidc`, LISTED)).toEqual({ issuer: `${origin}/oidc`, isInsecure: true })
  })

  it.each([
    ['http on a public host', 'http://idp.example.com/', 'scheme_not_allowed'],
    ['a query string', 'https://idp.example.com/?tenant=1', 'issuer_has_query_or_fragment'],
    ['a fragment', 'https://idp.example.com/#x', 'issuer_has_query_or_fragment'],
    ['not a URL', 'idp.example.com', 'invalid_url'],
  ])('refuses %s', async (_label, issuer, reason) => {
    const publicPolicy: OutboundPolicy = { allowedPrivateHosts: [], lookup: async () => [{ address: '93.184.216.34', family: 4 }] }
    expect(await refusal(checkIssuerUrl(issuer, publicPolicy))).toBe(reason)
  })

  it('refuses 127.0.0.1 when SSO_ALLOWED_PRIVATE_HOSTS does not list it (production default)', async () => {
    expect(await refusal(checkIssuerUrl(`${origin}/oidc`, NOT_LISTED))).toBe('private_address')
  })
})
