/**
 * Issue 11 item 10: a frozen database (a stopped process: connections open, nothing answers) hung
 * every API call for as long as the freeze lasted. Fault injected here: the production server
 * talks to MariaDB through a TCP forwarder this test owns; "freezing" it holds every byte in both
 * directions (new connections are accepted and hear nothing), as SIGSTOP on the database would —
 * without stopping the MariaDB other test runs share. Expected: every call answers within the
 * configured bound with 503 + Retry-After, nothing is granted or written, and once the database
 * answers again the app recovers by itself.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DATABASE_RETRY_AFTER_SECONDS } from '../../src/server/db/availability'
import { createMigratedTestDatabase } from '../setup/database'
import type { RunningAppServer } from '../setup/app-server'
import { countRows, createPasswordUser, getTrpc, postTrpc, sessionCookieFrom, signInOverHttp, startSecurityTestServer, TEST_PASSWORD } from './security-support'

const ACQUIRE_TIMEOUT_MS = 800
const QUERY_TIMEOUT_MS = 1_200
/** The promise made to clients: acquire + one query, plus scheduling slack on a shared 2-core machine. */
const ANSWER_BOUND_MS = ACQUIRE_TIMEOUT_MS + QUERY_TIMEOUT_MS + 1_500

type FreezableProxy = { port: number; freeze: () => void; thaw: () => void; close: () => Promise<void> }

/** A TCP forwarder to `target`; while frozen it forwards nothing and buffers what it receives. */
async function startFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  let isFrozen = false
  const flushes = new Set<() => void>()
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client).add(upstream)
    const held: Array<[Socket, Buffer]> = []
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (isFrozen) held.push([to, chunk])
      else if (!to.destroyed) to.write(chunk)
    }
    client.on('data', forward(upstream))
    upstream.on('data', forward(client))
    const flush = () => {
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk)
    }
    flushes.add(flush)
    const closeBoth = () => {
      flushes.delete(flush)
      // A peer that gave up (the app's timeout) loses what was held: the database never sees it.
      held.length = 0
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    for (const socket of [client, upstream]) {
      socket.on('close', closeBoth)
      socket.on('error', closeBoth)
    }
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    freeze: () => {
      isFrozen = true
    },
    thaw: () => {
      isFrozen = false
      for (const flush of flushes) flush()
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((done) => server.close(() => done()))
    },
  }
}

async function timed(call: () => Promise<Response>): Promise<{ response: Response; elapsedMs: number; body: string }> {
  const started = performance.now()
  const response = await call()
  const body = await response.text()
  return { response, elapsedMs: performance.now() - started, body }
}

describe('a frozen database answers 503 + Retry-After within the bound, grants nothing, and recovers', () => {
  let proxy: FreezableProxy
  let server: RunningAppServer
  let directUrl: string
  const email = 'frozen@example.test'

  beforeAll(async () => {
    directUrl = await createMigratedTestDatabase(inject('runId'), 'frozen')
    await createPasswordUser(directUrl, { email })
    const target = new URL(directUrl)
    proxy = await startFreezableProxy({ host: target.hostname, port: Number(target.port || 3306) })
    const proxiedUrl = new URL(directUrl)
    proxiedUrl.hostname = '127.0.0.1'
    proxiedUrl.port = String(proxy.port)
    server = await startSecurityTestServer(inject('runId'), 'frozen', {
      databaseUrl: proxiedUrl.toString(),
      env: { DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS), DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) },
    })
  })
  afterAll(async () => {
    proxy?.thaw()
    await server?.stop()
    await proxy?.close()
  })

  it('while frozen: sign-in, the viewer, protected and batched calls all answer 503 + Retry-After in time; nothing is granted or written', async () => {
    const cookie = await signInOverHttp(server, email)
    const before = await countRows(directUrl)
    proxy.freeze()
    try {
      // More concurrent calls than the pool has connections (10): some wait to acquire one, the
      // others wait on a connection that never answers. Each kind must be bounded.
      const calls = [
        ...Array.from({ length: 6 }, () => () => postTrpc(server, 'auth.signIn', { email, password: TEST_PASSWORD })),
        ...Array.from({ length: 6 }, () => () => getTrpc(server, 'auth.me', undefined, { cookie })),
        ...Array.from({ length: 4 }, () => () => getTrpc(server, 'sessions.list', undefined, { cookie })),
        () => fetch(`${server.url}/api/trpc/auth.me,sessions.list?batch=1&input=${encodeURIComponent('{}')}`, { headers: { cookie } }),
      ]
      const results = await Promise.all(calls.map((call) => timed(call)))
      for (const { response, elapsedMs, body } of results) {
        expect(response.status, body).toBe(503)
        expect(response.headers.get('retry-after')).toBe(String(DATABASE_RETRY_AFTER_SECONDS))
        expect(elapsedMs).toBeLessThan(ANSWER_BOUND_MS)
        // Nothing granted: no session cookie, no viewer, the typed code and no internals.
        expect(sessionCookieFrom(response)).toBeNull()
        expect(body).not.toContain(email)
        expect(body).toContain('SERVICE_UNAVAILABLE')
        expect(body).not.toMatch(/select|insert|ETIMEDOUT|DATABASE_QUERY_TIMEOUT|stack/i)
      }
      // A second wave, once the pool's connections have been given up on, is just as bounded.
      const second = await timed(() => postTrpc(server, 'auth.signIn', { email, password: TEST_PASSWORD }))
      expect(second.response.status).toBe(503)
      expect(second.elapsedMs).toBeLessThan(ANSWER_BOUND_MS)
      // The health probe (its own bound) says so too.
      expect((await fetch(`${server.url}/api/health`)).status).toBe(503)
      // A server-rendered page loads the viewer in-process: bounded too, never signed in, and an
      // outage answer (503 + Retry-After), not an application error.
      const page = await timed(() => fetch(`${server.url}/app`, { headers: { cookie }, redirect: 'manual' }))
      expect(page.elapsedMs).toBeLessThan(ANSWER_BOUND_MS)
      expect(page.response.status).toBe(503)
      expect(page.response.headers.get('retry-after')).toBe('5')
      expect(page.body).not.toContain(email)
    } finally {
      proxy.thaw()
    }
    // What reached the frozen database was dropped with its connection: no session, no audit row.
    expect(await countRows(directUrl)).toEqual(before)
    expect(server.output()).not.toMatch(/\[trpc\] .* failed/)
  })

  it('after the database answers again, the app recovers by itself', async () => {
    let status = 0
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      status = (await postTrpc(server, 'auth.signIn', { email, password: TEST_PASSWORD })).status
      if (status === 200) break
      await new Promise((done) => setTimeout(done, 200))
    }
    expect(status).toBe(200)
    const cookie = await signInOverHttp(server, email)
    const me = await getTrpc(server, 'auth.me', undefined, { cookie })
    expect(me.status).toBe(200)
    expect(await me.text()).toContain(email)
  })
})
