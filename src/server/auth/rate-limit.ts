/**
 * Server-only: rate limits, stored in MySQL so every instance shares them (an in-memory limiter
 * would give an attacker N× the budget behind N instances). The per-account lockout
 * (`account-lockout.ts`) keeps its counters in the same buckets.
 *
 * Fixed windows, one row per bucket. Each attempt is a single atomic upsert that returns the new
 * count through `LAST_INSERT_ID(expr)` — no read-modify-write race, one round trip, and the same
 * SQL on MySQL 8.4 and MariaDB.
 */
import { and, eq, lt, lte, sql } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { rateLimitBuckets } from '../../../db/schema'
import type { Database } from '../db/client'
import { appError } from '../errors'

export type RateLimitPolicyName = keyof typeof appConfig.rateLimits

/**
 * Policies that count a client address (`…PerIp` in `app.config.ts`). They are spent only through
 * `RequestContext.enforcePerIpRateLimit`, which keys them on the client's network (an IPv6 /64,
 * `rateLimitSubjectForIp`): passing an address yourself is a type error, so no call site can key
 * one on a raw IPv6 /128 (2^64 budgets for one host).
 */
export type PerIpRateLimitPolicyName = Extract<RateLimitPolicyName, `${string}PerIp`>

/** Policies whose subject the caller names (an account, an organization). */
export type SubjectRateLimitPolicyName = Exclude<RateLimitPolicyName, PerIpRateLimitPolicyName>

export type RateLimitPolicy = { limit: number; windowSeconds: number }

export type RateLimitDecision = { isAllowed: boolean; count: number; retryAfterSeconds: number }

const MAX_KEY_LENGTH = 191

function bucketKey(name: string, subject: string): string {
  return `${name}:${subject}`.slice(0, MAX_KEY_LENGTH)
}

/** Counts one attempt against `policy` for `subject` and says whether it is within the limit. */
export async function consumeRateLimit(db: Database, name: string, policy: RateLimitPolicy, subject: string, now: Date): Promise<RateLimitDecision> {
  const key = bucketKey(name, subject)
  const windowStartCutoff = new Date(now.getTime() - policy.windowSeconds * 1000)
  const expiresAt = new Date(now.getTime() + policy.windowSeconds * 1000)
  // Assignment order matters: MySQL evaluates left to right, so `window_started_at` is updated last
  // and the two IF()s before it still see the old window.
  const [result] = (await db.execute(sql`
    INSERT INTO rate_limit_buckets (\`key\`, window_started_at, count, expires_at)
    VALUES (${key}, ${now}, LAST_INSERT_ID(1), ${expiresAt})
    ON DUPLICATE KEY UPDATE
      count = LAST_INSERT_ID(IF(window_started_at <= ${windowStartCutoff}, 1, count + 1)),
      expires_at = IF(window_started_at <= ${windowStartCutoff}, ${expiresAt}, expires_at),
      window_started_at = IF(window_started_at <= ${windowStartCutoff}, ${now}, window_started_at)
  `)) as unknown as [{ insertId: number }]
  const count = Number(result.insertId)
  if (count <= policy.limit) return { isAllowed: true, count, retryAfterSeconds: 0 }
  return { isAllowed: false, count, retryAfterSeconds: await secondsUntilWindowEnds(db, key, policy, now) }
}

async function secondsUntilWindowEnds(db: Database, key: string, policy: RateLimitPolicy, now: Date): Promise<number> {
  const [row] = await db.select({ windowStartedAt: rateLimitBuckets.windowStartedAt }).from(rateLimitBuckets).where(eq(rateLimitBuckets.key, key)).limit(1)
  const endsAt = (row?.windowStartedAt.getTime() ?? now.getTime()) + policy.windowSeconds * 1000
  return Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000))
}

type RateLimitContext = { db: Database; now: Date; responseHeaders: Headers }

/** "in 40 seconds", "in 15 minutes", "in 2 hours": a lockout says when it ends, not just "later". */
export function describeWait(seconds: number): string {
  if (seconds < 90) return `in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}`
  const minutes = Math.ceil(seconds / 60)
  if (minutes < 90) return `in ${minutes} minutes`
  return `in ${Math.ceil(minutes / 60)} hours`
}

/**
 * The 429 of a spent budget or a locked account: `Retry-After` for programs, and a sentence saying
 * when for people (`sentence` gets the wait, "in 15 minutes"). The wait is the same for every
 * subject of a policy, so it reveals nothing.
 */
export function throttledError(
  ctx: Pick<RateLimitContext, 'responseHeaders'>,
  code: 'RATE_LIMITED' | 'ACCOUNT_LOCKED',
  retryAfterSeconds: number,
  sentence: (wait: string) => string = (wait) => `Too many attempts. Try again ${wait}.`,
) {
  ctx.responseHeaders.set('retry-after', String(retryAfterSeconds))
  return appError(code, sentence(describeWait(retryAfterSeconds)))
}

/**
 * Consumes one attempt of a configured policy; over the limit, sets `Retry-After` and throws
 * RATE_LIMITED (HTTP 429). Each call of a tRPC batch comes through here, so batching buys nothing.
 */
export async function enforceRateLimit(ctx: RateLimitContext, policyName: RateLimitPolicyName, subject: string): Promise<void> {
  const decision = await consumeRateLimit(ctx.db, policyName, appConfig.rateLimits[policyName], subject, ctx.now)
  if (!decision.isAllowed) throw throttledError(ctx, 'RATE_LIMITED', decision.retryAfterSeconds)
}

/**
 * Gives one counted attempt back (it checked nothing, or it succeeded). The bucket it alone made is
 * removed, so a request that took and returned an attempt leaves the table as it found it.
 */
export async function returnRateLimitAttempt(db: Database, name: string, subject: string): Promise<void> {
  const key = bucketKey(name, subject)
  const [deleted] = await db.delete(rateLimitBuckets).where(and(eq(rateLimitBuckets.key, key), lte(rateLimitBuckets.count, 1)))
  if (deleted.affectedRows > 0) return
  await db
    .update(rateLimitBuckets)
    .set({ count: sql`GREATEST(${rateLimitBuckets.count} - 1, 0)` })
    .where(eq(rateLimitBuckets.key, key))
}

/** Forgets `subject`'s bucket of `name` (a success ends a run of failures). */
export async function resetRateLimit(db: Database, name: string, subject: string): Promise<void> {
  await db.delete(rateLimitBuckets).where(eq(rateLimitBuckets.key, bucketKey(name, subject)))
}

/** Deletes buckets whose window has passed; run on a schedule. */
export async function purgeExpiredRateLimitBuckets(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(rateLimitBuckets).where(lt(rateLimitBuckets.expiresAt, now))
  return result.affectedRows
}
