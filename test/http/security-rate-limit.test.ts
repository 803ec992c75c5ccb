/**
 * Rate limits over real HTTP (SPEC §7): batching buys no extra attempts, a second instance buys
 * none either (the counters live in MySQL), and a forged X-Forwarded-For buys none unless a proxy
 * hop is configured as trusted. Limits come from app.config.ts (sign-in: 30 per IP per window).
 */
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import appConfig from '../../app.config'
import type { RunningAppServer } from '../setup/app-server'
import { clearRateLimits, countRows, createPasswordUser, postTrpc, startSecurityTestServer, withConnection, type TrpcErrorBody } from './security-support'

const PER_IP_LIMIT = appConfig.rateLimits.signInPerIp.limit

/**
 * Sign-in attempts for distinct unknown emails: each stays under the per-account limit and the
 * lockout, so only the per-IP limit can stop them.
 */
function attempts(count: number, prefix: string) {
  return Array.from({ length: count }, (_, index) => ({ email: `${prefix}-${index}@rate.test`, password: 'not the password' }))
}

/** One HTTP request carrying every attempt as one call of a tRPC batch. */
function postSignInBatch(server: RunningAppServer, inputs: Array<{ email: string; password: string }>): Promise<Response> {
  const paths = inputs.map(() => 'auth.signIn').join(',')
  return postTrpc(server, `${paths}?batch=1`, Object.fromEntries(inputs.map((input, index) => [index, input])))
}

async function appCodesOf(response: Response): Promise<string[]> {
  const body = (await response.json()) as TrpcErrorBody[]
  return body.map((entry) => entry.error.data.appCode ?? 'none')
}

function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1
  return counts
}

async function perIpCount(databaseUrl: string): Promise<number> {
  return withConnection(databaseUrl, async (connection) => {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT COALESCE(SUM(count), 0) AS n FROM rate_limit_buckets WHERE `key` LIKE 'signInPerIp:%'")
    return Number(rows[0]!.n)
  })
}

async function perIpKeys(databaseUrl: string): Promise<string[]> {
  return withConnection(databaseUrl, async (connection) => {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT `key` FROM rate_limit_buckets WHERE `key` LIKE 'signInPerIp:%' ORDER BY `key`")
    return rows.map((row) => String(row.key))
  })
}

let instanceA: RunningAppServer
let instanceB: RunningAppServer

beforeAll(async () => {
  instanceA = await startSecurityTestServer(inject('runId'), 'ratelimit')
  instanceB = await startSecurityTestServer(inject('runId'), 'ratelimit', { databaseUrl: instanceA.databaseUrl })
})
afterAll(async () => {
  await Promise.all([instanceA?.stop(), instanceB?.stop()])
})
beforeEach(async () => {
  await clearRateLimits(instanceA.databaseUrl)
})

describe('per-IP sign-in limit', () => {
  it('a single batched request of 35 sign-ins gets only 30 attempts; the rest are 429 with Retry-After', async () => {
    const response = await postSignInBatch(instanceA, attempts(PER_IP_LIMIT + 5, 'batch'))
    const codes = await appCodesOf(response)
    expect(codes).toHaveLength(PER_IP_LIMIT + 5)
    expect(tally(codes)).toEqual({ INVALID_CREDENTIALS: PER_IP_LIMIT, RATE_LIMITED: 5 })
    const retryAfter = Number(response.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(appConfig.rateLimits.signInPerIp.windowSeconds)
    expect(await perIpCount(instanceA.databaseUrl)).toBe(PER_IP_LIMIT + 5)
    expect((await countRows(instanceA.databaseUrl, ['sessions'])).sessions).toBe(0)
  })

  it('a refused call answers 429 TOO_MANY_REQUESTS on its own', async () => {
    await postSignInBatch(instanceA, attempts(PER_IP_LIMIT, 'fill'))
    const response = await postTrpc(instanceA, 'auth.signIn', attempts(1, 'single')[0])
    expect(response.status).toBe(429)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    const body = (await response.json()) as TrpcErrorBody
    expect(body.error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429, appCode: 'RATE_LIMITED' })
  })

  it('the limit is shared by two instances on one database (spreading attempts over instances buys nothing)', async () => {
    const first = await appCodesOf(await postSignInBatch(instanceA, attempts(20, 'spread-a')))
    expect(tally(first)).toEqual({ INVALID_CREDENTIALS: 20 })
    const second = await postSignInBatch(instanceB, attempts(15, 'spread-b'))
    expect(tally(await appCodesOf(second))).toEqual({ INVALID_CREDENTIALS: PER_IP_LIMIT - 20, RATE_LIMITED: 15 - (PER_IP_LIMIT - 20) })
    expect(second.headers.get('retry-after')).not.toBeNull()
  })
})

describe('client IP and X-Forwarded-For', () => {
  async function signInWithForwardedFor(server: RunningAppServer, index: number): Promise<number> {
    const input = attempts(1, `xff-${index}`)[0]
    const headers = { origin: server.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${index % 250}` }
    const response = await postTrpc(server, 'auth.signIn', input, { headers })
    await response.body?.cancel()
    return response.status
  }

  it('with TRUST_PROXY_HOPS=0 a client rotating a forged X-Forwarded-For is still limited by its socket address', async () => {
    const statuses = await Promise.all(Array.from({ length: PER_IP_LIMIT + 5 }, (_, index) => signInWithForwardedFor(instanceA, index)))
    expect(tally(statuses.map(String))).toEqual({ 401: PER_IP_LIMIT, 429: 5 })
    // One bucket, keyed by the TCP peer (not a shared "unknown" bucket, not a forged address).
    expect(await perIpKeys(instanceA.databaseUrl)).toEqual(['signInPerIp:127.0.0.1'])
  })

  describe('the other side: one trusted proxy hop', () => {
    let proxied: RunningAppServer

    beforeAll(async () => {
      proxied = await startSecurityTestServer(inject('runId'), 'ratelimit', { databaseUrl: instanceA.databaseUrl, env: { TRUST_PROXY_HOPS: '1' } })
    })
    afterAll(async () => {
      await proxied?.stop()
    })

    it('with TRUST_PROXY_HOPS=1 the address our proxy appended is the client, so distinct clients have distinct budgets', async () => {
      const statuses = await Promise.all(Array.from({ length: PER_IP_LIMIT + 5 }, (_, index) => signInWithForwardedFor(proxied, index)))
      expect(tally(statuses.map(String))).toEqual({ 401: PER_IP_LIMIT + 5 })
      expect(await perIpKeys(instanceA.databaseUrl)).toContain('signInPerIp:203.0.113.7')
    })

    it('a client rotating through its IPv6 /64 in X-Forwarded-For shares one budget: reset spraying is 429 after the limit and mails nothing', async () => {
      const resetLimit = appConfig.rateLimits.passwordResetPerIp.limit
      const victim = `victim-${Date.now()}@rate.test`
      await createPasswordUser(instanceA.databaseUrl, { email: victim })
      const requestReset = async (email: string, forwardedFor: string) => {
        const headers = { origin: proxied.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }
        const response = await postTrpc(proxied, 'auth.requestPasswordReset', { email }, { headers })
        await response.body?.cancel()
        return response.status
      }
      const statuses: number[] = []
      for (let i = 1; i <= resetLimit; i++) statuses.push(await requestReset(`spray-${i}@rate.test`, `2001:db8:1234:5678::${i.toString(16)}`))
      expect(statuses).toEqual(Array.from({ length: resetLimit }, () => 200))

      const before = await countRows(instanceA.databaseUrl, ['mail_outbox', 'audit_events', 'one_time_tokens'])
      for (const address of ['2001:db8:1234:5678::ff', '2001:db8:1234:5678:ffff:ffff:ffff:ffff', '2001:DB8:1234:5678:0:0:0:abc']) {
        expect(await requestReset(victim, address)).toBe(429)
      }
      expect(await countRows(instanceA.databaseUrl, ['mail_outbox', 'audit_events', 'one_time_tokens'])).toEqual(before)

      // The other side: another /64 is another client.
      expect(await requestReset(victim, '2001:db8:1234:5679::1')).toBe(200)
    })
  })
})
