/**
 * Server-only: rate limits and per-account lockout, stored in MySQL so every instance shares them
 * (an in-memory limiter would give an attacker N× the budget behind N instances).
 *
 * Fixed windows, one row per bucket. Each attempt is a single atomic upsert that returns the new
 * count through `LAST_INSERT_ID(expr)` — no read-modify-write race, one round trip, and the same
 * SQL on MySQL 8.4 and MariaDB.
 */
import { and, eq, gt, lt, sql } from 'drizzle-orm'
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
 * when for people. The wait is the same for every subject of a policy, so it reveals nothing.
 */
export function throttledError(ctx: Pick<RateLimitContext, 'responseHeaders'>, code: 'RATE_LIMITED' | 'ACCOUNT_LOCKED', retryAfterSeconds: number) {
  ctx.responseHeaders.set('retry-after', String(retryAfterSeconds))
  return appError(code, `Too many attempts. Try again ${describeWait(retryAfterSeconds)}.`)
}

/**
 * Consumes one attempt of a configured policy; over the limit, sets `Retry-After` and throws
 * RATE_LIMITED (HTTP 429). Each call of a tRPC batch comes through here, so batching buys nothing.
 */
export async function enforceRateLimit(ctx: RateLimitContext, policyName: RateLimitPolicyName, subject: string): Promise<void> {
  const decision = await consumeRateLimit(ctx.db, policyName, appConfig.rateLimits[policyName], subject, ctx.now)
  if (!decision.isAllowed) throw throttledError(ctx, 'RATE_LIMITED', decision.retryAfterSeconds)
}

const LOCKOUT_BUCKET = 'lockout:user'

function lockoutPolicy(): RateLimitPolicy {
  return { limit: appConfig.lockout.maxFailures, windowSeconds: appConfig.lockout.windowSeconds }
}

/** Seconds the account stays locked, or 0 when it is not (failed passwords and MFA codes count alike). */
export async function getAccountLockSeconds(db: Database, userId: string, now: Date): Promise<number> {
  const policy = lockoutPolicy()
  const windowStartCutoff = new Date(now.getTime() - policy.windowSeconds * 1000)
  const key = bucketKey(LOCKOUT_BUCKET, userId)
  const [row] = await db
    .select({ count: rateLimitBuckets.count, windowStartedAt: rateLimitBuckets.windowStartedAt })
    .from(rateLimitBuckets)
    .where(and(eq(rateLimitBuckets.key, key), gt(rateLimitBuckets.windowStartedAt, windowStartCutoff)))
    .limit(1)
  if (!row || row.count < policy.limit) return 0
  return Math.max(1, Math.ceil((row.windowStartedAt.getTime() + policy.windowSeconds * 1000 - now.getTime()) / 1000))
}

/**
 * Refuses with ACCOUNT_LOCKED (429 + `Retry-After`) while the account is locked. Every check of a
 * password or code runs it first, so no entry point (sign-in, step-up, MFA challenge, password
 * change) is a guessing oracle that the lockout does not cover (NIST 800-63B §5.2.2).
 */
export async function enforceAccountNotLocked(ctx: RateLimitContext, subject: string): Promise<void> {
  const lockSeconds = await getAccountLockSeconds(ctx.db, subject, ctx.now)
  if (lockSeconds > 0) throw throttledError(ctx, 'ACCOUNT_LOCKED', lockSeconds)
}

/** Counts a failed password or MFA code against the account; returns true when this failure locks it. */
export async function recordAccountFailure(db: Database, userId: string, now: Date): Promise<boolean> {
  const decision = await consumeRateLimit(db, LOCKOUT_BUCKET, lockoutPolicy(), userId, now)
  return decision.count === lockoutPolicy().limit
}

/** Clears the account's failure count after a fully successful sign-in. */
export async function resetAccountFailures(db: Database, userId: string): Promise<void> {
  await db.delete(rateLimitBuckets).where(eq(rateLimitBuckets.key, bucketKey(LOCKOUT_BUCKET, userId)))
}

/** Deletes buckets whose window has passed; run on a schedule. */
export async function purgeExpiredRateLimitBuckets(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(rateLimitBuckets).where(lt(rateLimitBuckets.expiresAt, now))
  return result.affectedRows
}
