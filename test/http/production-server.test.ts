import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import mysql from 'mysql2/promise'
import { startAppServer, type RunningAppServer } from '../setup/app-server'

describe('the production server (npm start) over real HTTP', () => {
  let server: RunningAppServer

  beforeAll(async () => {
    server = await startAppServer({ runId: inject('runId'), name: 'prod' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('server-renders the home page with data from an in-process procedure call', async () => {
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    const html = await response.text()
    expect(html).toContain('data-testid="app-name">Gatehouse</h1>')
    // The root route's viewer query ran in-process during SSR and was dehydrated into the page.
    expect(html).toMatch(/dehydratedData:.*?"auth","me"/s)
  })

  it('answers tRPC queries over HTTP', async () => {
    const response = await fetch(`${server.url}/api/trpc/system.info`)
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body.result.data.appName).toBe('Gatehouse')
  })

  it('reports health with the database status', async () => {
    const response = await fetch(`${server.url}/api/health`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toMatchObject({ status: 'ok', database: { status: 'ok' } })
  })

  it('sends the security headers on pages', async () => {
    const response = await fetch(server.url)
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin')
    // Plain-http loopback deployment: HSTS would be wrong here.
    expect(response.headers.get('strict-transport-security')).toBeNull()
  })

  it('serves hashed assets as immutable static files and refuses path traversal', async () => {
    const html = await (await fetch(server.url)).text()
    const asset = html.match(/href="(\/assets\/[^"]+\.css)"/)?.[1]
    expect(asset).toBeDefined()
    const response = await fetch(`${server.url}${asset}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toContain('immutable')
    const traversal = await fetch(`${server.url}/assets/..%2f..%2fpackage.json`)
    expect(await traversal.text()).not.toContain('"name": "gatehouse"')
  })

  it('survives clients that disconnect mid-request', async () => {
    // An aborted request must never take the process (and everyone else's requests) down.
    const aborted = Array.from({ length: 20 }, async (_, index) => {
      const controller = new AbortController()
      const pending = fetch(index % 2 ? server.url : `${server.url}/api/trpc/system.info`, { signal: controller.signal }).catch(() => null)
      setTimeout(() => controller.abort(), index % 5)
      return pending
    })
    await Promise.all(aborted)
    const response = await fetch(`${server.url}/api/health`)
    expect(response.status).toBe(200)
  })

  it('refuses oversized and length-less request bodies before reading them (memory exhaustion)', async () => {
    const huge = await fetch(`${server.url}/api/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(2 * 1024 * 1024) }),
    })
    expect(huge.status).toBe(413)
    const chunked = await fetch(`${server.url}/api/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"email":"a@b.test"}'))
          controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(411)
  })

  it('hides internals on unknown tRPC procedures', async () => {
    const response = await fetch(`${server.url}/api/trpc/nope.nothing`)
    expect(response.status).toBe(404)
    const text = await response.text()
    expect(text).not.toMatch(/stack|at .*\.js:\d+/)
  })
})

describe('health while the database is unreachable', () => {
  it('answers 503, stays up, and recovers when the database returns', async () => {
    const runId = inject('runId')
    // A database user whose access we can revoke and restore stands in for an outage without
    // touching the shared server: the pool's new connections fail while the grant is gone.
    const admin = await mysql.createConnection({ uri: inject('testServerUrl') })
    const user = `gh_${runId}`.slice(0, 32)
    const password = 'health-check-test'
    const server = await startAppServer({ runId, name: 'outage' })
    const database = new URL(server.databaseUrl).pathname.slice(1)
    await server.stop()
    try {
      await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`)
      await admin.query(`GRANT ALL ON \`${database}\`.* TO '${user}'@'127.0.0.1'`)
      const limitedUrl = new URL(server.databaseUrl)
      limitedUrl.username = user
      limitedUrl.password = password
      const outage = await startAppServer({ runId, name: 'outage', databaseUrl: limitedUrl.toString() })
      try {
        await admin.query(`ALTER USER '${user}'@'127.0.0.1' ACCOUNT LOCK`)
        await admin.query(`KILL USER '${user}'`).catch(() => undefined)
        // A cached pooled connection may still answer once; the next probe must see the outage.
        let down = await fetch(`${outage.url}/api/health`)
        for (let attempt = 0; attempt < 5 && down.status === 200; attempt++) down = await fetch(`${outage.url}/api/health`)
        expect(down.status).toBe(503)
        expect(await down.json()).toMatchObject({ status: 'degraded', database: { status: 'unreachable' } })

        await admin.query(`ALTER USER '${user}'@'127.0.0.1' ACCOUNT UNLOCK`)
        const up = await fetch(`${outage.url}/api/health`)
        expect(up.status).toBe(200)
        expect(outage.output()).not.toContain(password)
      } finally {
        await outage.stop()
      }
    } finally {
      await admin.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`)
      await admin.end()
    }
  })
})

describe('production refuses to start when misconfigured', () => {
  it.each([
    ['no APP_SECRET', { APP_SECRET: '' }, /APP_SECRET is required/],
    ['a short APP_SECRET', { APP_SECRET: 'c2hvcnQ' }, /at least 32 random bytes/],
    ['a placeholder APP_SECRET', { APP_SECRET: 'a'.repeat(64) }, /placeholder/],
    ['a plain-http public APP_URL', { APP_URL: 'http://auth.example.com' }, /https/],
    ['SMTP mail without an SMTP_URL', { MAIL_TRANSPORT: '' }, /SMTP_URL/],
  ])('with %s', async (_label, env, message) => {
    const error = await startAppServer({ runId: inject('runId'), name: 'refuse', env }).then(
      async (server) => {
        await server.stop()
        return null
      },
      (failure: Error) => failure,
    )
    expect(error?.message).toMatch(/server exited early \(1\)/)
    expect(error?.message).toMatch(message)
  })
})
