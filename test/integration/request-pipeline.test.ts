/**
 * The request pipeline (src/server/request-pipeline.ts): the policies every request passes before a
 * handler, checked with a stand-in for Start's handler that records whether it ran. Attacks:
 * cross-site request forgery against a route nobody listed, oversized and unbounded bodies, and
 * methods a route does not serve (which Start would answer with a rendered page).
 */
import { describe, expect, it } from 'vitest'
import { handleRequest } from '../../src/server/request-pipeline'
import { CSRF_REFUSED_HEADER } from '../../src/server/http/server-fn-requests'

const APP = 'http://localhost:3000'
const EVIL = 'https://evil.example'

function recordingStart() {
  const seen: Request[] = []
  const serve = async (request: Request) => {
    seen.push(request)
    return new Response('from start', { status: 200, headers: { 'content-type': 'text/plain' } })
  }
  return { seen, serve }
}

describe('request pipeline', () => {
  it('CSRF by default: a cross-site POST to an unlisted /api route never reaches a handler', async () => {
    const start = recordingStart()
    const response = await handleRequest(
      new Request(`${APP}/api/brand-new-endpoint`, { method: 'POST', headers: { origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain', 'content-length': '3' }, body: 'a=1' }),
      start.serve,
    )
    expect(response.status).toBe(403)
    expect(start.seen).toHaveLength(0)
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('the other side: the same POST from our own page reaches the handler', async () => {
    const start = recordingStart()
    const response = await handleRequest(
      new Request(`${APP}/api/brand-new-endpoint`, { method: 'POST', headers: { origin: APP, 'sec-fetch-site': 'same-origin', 'content-length': '2' }, body: '{}' }),
      start.serve,
    )
    expect(response.status).toBe(200)
    expect(start.seen).toHaveLength(1)
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
  })

  it('a cross-site form post to a page is refused too (pages take no state-changing requests from elsewhere)', async () => {
    const start = recordingStart()
    const response = await handleRequest(new Request(`${APP}/settings/security`, { method: 'POST', headers: { origin: EVIL, 'content-length': '0' } }), start.serve)
    expect(response.status).toBe(403)
    expect(start.seen).toHaveLength(0)
  })

  it('a form posted to a page before hydration is sent back to the page: body unread, nothing reaches Start', async () => {
    const start = recordingStart()
    const body = 'email=ada%40example.test&password=correct+horse+battery+staple'
    const response = await handleRequest(
      new Request(`${APP}/signup?redirect=%2Fapp`, { method: 'POST', headers: { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body }),
      start.serve,
    )
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/signup')
    expect(start.seen).toHaveLength(0)
    expect(await response.text()).not.toContain('password')
  })

  it('a cross-site server-function call reaches Start only marked as refused, with no body', async () => {
    const start = recordingStart()
    await handleRequest(
      new Request(`${APP}/_serverFn/abc`, { method: 'POST', headers: { origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json', 'content-length': '2' }, body: '{}' }),
      start.serve,
    )
    expect(start.seen).toHaveLength(1)
    expect(start.seen[0]!.headers.get(CSRF_REFUSED_HEADER)).toBe('cross-site-fetch')
    expect(start.seen[0]!.body).toBeNull()
  })

  it('methods a route does not serve answer 405 with Allow, before any handler (no rendered page)', async () => {
    for (const [path, method, allow] of [
      ['/api/trpc/auth.me', 'PUT', 'GET, POST, HEAD'],
      ['/api/trpc/auth.me', 'DELETE', 'GET, POST, HEAD'],
      ['/api/trpc/auth.me', 'OPTIONS', 'GET, POST, HEAD'],
      ['/api/health', 'POST', 'GET, HEAD'],
      ['/api/health', 'PATCH', 'GET, HEAD'],
    ] as const) {
      const start = recordingStart()
      const response = await handleRequest(new Request(`${APP}${path}`, { method, headers: { origin: APP, 'content-length': '0' } }), start.serve)
      expect(response.status, `${method} ${path}`).toBe(405)
      expect(response.headers.get('allow')).toBe(allow)
      expect(start.seen).toHaveLength(0)
    }
  })

  it('pages answer methods other than GET, HEAD and POST with 405 (no rendered page)', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const start = recordingStart()
      const response = await handleRequest(new Request(`${APP}/settings/security`, { method, headers: { origin: APP, 'sec-fetch-site': 'same-origin', 'content-length': '0' } }), start.serve)
      expect(response.status, method).toBe(405)
      expect(response.headers.get('allow')).toBe('GET, HEAD')
      expect(start.seen).toHaveLength(0)
    }
  })

  it('a declared body over 1 MiB is refused with 413 and a body without a declared length with 411, unread', async () => {
    const start = recordingStart()
    const big = await handleRequest(new Request(`${APP}/api/trpc/auth.signIn`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) } }), start.serve)
    expect(big.status).toBe(413)
    const unbounded = await handleRequest(new Request(`${APP}/api/trpc/auth.signIn`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }), start.serve)
    expect(unbounded.status).toBe(411)
    expect(start.seen).toHaveLength(0)
  })

  it('a cross-site tRPC mutation answers in tRPC’s shape with CSRF_REJECTED, never running the procedure', async () => {
    const start = recordingStart()
    const response = await handleRequest(
      new Request(`${APP}/api/trpc/auth.signOut`, { method: 'POST', headers: { origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json', 'content-length': '2' }, body: '{}' }),
      start.serve,
    )
    expect(response.status).toBe(403)
    const body = (await response.json()) as { error: { data: { appCode: string } } }
    expect(body.error.data.appCode).toBe('CSRF_REJECTED')
    expect(start.seen).toHaveLength(0)
  })
})
