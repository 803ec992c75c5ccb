/**
 * Server-only: the per-account lockout against online guessing (NIST SP 800-63B-4 §3.2.2), built so
 * that it cannot be turned against the owner (OWASP ASVS 5.0 V6.1.1 "prevent malicious account
 * lockout"; the OWASP device-cookie pattern; ADR 016).
 *
 * Every failed password or code counts against one of two budgets of the account, chosen by the
 * browser's known-device cookie (`known-devices.ts`, ADR 013):
 * - a browser holding this account's tag (it completed a sign-in here before) spends a budget of
 *   its own, `lockout.maxFailuresPerKnownDevice` per window: strangers cannot spend it, and a
 *   stolen or shared browser still cannot guess for long;
 * - every other client spends the budget they share, `lockout.maxFailures` per window. Anyone who
 *   knows an email can exhaust it; then such clients, and only they, are refused until it ends.
 * An unknown email has no known devices: it is an untrusted client of an account like any other,
 * with the same budget and the same answers (no enumeration through the lockout).
 *
 * The counters are fixed-window buckets (`rate-limit.ts`); the cap on consecutive second-factor
 * failures that no window forgets is `mfa-failure-streak.ts`.
 */
import appConfig from '../../../app.config'
import type { RequestContext } from '../request-context'
import { getKnownDeviceId } from './known-devices'
import { consumeRateLimit, resetRateLimit, returnRateLimitAttempt, throttledError, type RateLimitPolicy } from './rate-limit'

export type LockoutBudget = {
  /** Who spends it: every client without the account's tag, or one known device. */
  scope: 'untrusted_clients' | 'known_device'
  /** Bucket name and subject: `lockout:untrusted:<account>` or `lockout:device:<user id>:<device id>`. */
  name: 'lockout:untrusted' | 'lockout:device'
  subject: string
  policy: RateLimitPolicy
}

type LockoutContext = Pick<RequestContext, 'db' | 'now' | 'cookies' | 'env' | 'responseHeaders' | 'audit'>

/**
 * The budget this request's failures against account `subject` count against. `subject` is the user
 * id, or for an unknown email its hash (`accountSubject`): no sign-in ever tagged a browser for that,
 * so the same tag check runs, finds nothing, and the unknown email is an untrusted client's.
 */
export function getLockoutBudget(ctx: Pick<LockoutContext, 'cookies' | 'env'>, subject: string): LockoutBudget {
  const { maxFailures, maxFailuresPerKnownDevice, windowSeconds } = appConfig.lockout
  const deviceId = getKnownDeviceId(ctx.cookies, ctx.env.appUrl, subject)
  if (deviceId) return { scope: 'known_device', name: 'lockout:device', subject: `${subject}:${deviceId}`, policy: { limit: maxFailuresPerKnownDevice, windowSeconds } }
  return { scope: 'untrusted_clients', name: 'lockout:untrusted', subject, policy: { limit: maxFailures, windowSeconds } }
}

/**
 * The 429 of a spent budget, with `Retry-After`. An untrusted client is told the way around it; the
 * sentence is the same for every email, known or not.
 */
export function accountLockedError(ctx: Pick<LockoutContext, 'responseHeaders'>, budget: LockoutBudget, retryAfterSeconds: number) {
  return throttledError(ctx, 'ACCOUNT_LOCKED', retryAfterSeconds, (wait) =>
    budget.scope === 'known_device' ? `Too many attempts from this browser. Try again ${wait}.` : `Too many attempts. Try again ${wait}, or from a browser you have signed in with before.`,
  )
}

/** One attempt taken from a budget before a password or code is checked, and its place in the window. */
export type LockoutAttempt = { budget: LockoutBudget; count: number; isAllowed: boolean; retryAfterSeconds: number }

/**
 * Takes one attempt from this request's budget for the account *before* the password or code is
 * checked, in one atomic statement: a parallel burst cannot overdraw the budget, as a read-then-
 * count would let N concurrent guesses all pass the read (found by review: 40 checked against a
 * budget of 5). The attempt stays counted when the check fails (`recordLockoutFailure`), is given
 * back when it succeeds (`releaseLockoutAttempt`), and a completed sign-in forgets the budget.
 */
export async function takeLockoutAttempt(ctx: LockoutContext, budget: LockoutBudget): Promise<LockoutAttempt> {
  const decision = await consumeRateLimit(ctx.db, budget.name, budget.policy, budget.subject, ctx.now)
  // A refused attempt checks nothing, so it spends nothing: the count stays the number of checks.
  if (!decision.isAllowed) await returnRateLimitAttempt(ctx.db, budget.name, budget.subject)
  return { budget, count: decision.count, isAllowed: decision.isAllowed, retryAfterSeconds: decision.retryAfterSeconds }
}

/**
 * `takeLockoutAttempt`, refusing with ACCOUNT_LOCKED when the budget is spent. Every check of a
 * password or code runs it first, so no entry point (sign-in, MFA challenge, step-up, password
 * change) is an oracle it does not cover.
 */
export async function requireLockoutAttempt(ctx: LockoutContext, subject: string): Promise<LockoutAttempt> {
  const attempt = await takeLockoutAttempt(ctx, getLockoutBudget(ctx, subject))
  if (!attempt.isAllowed) throw accountLockedError(ctx, attempt.budget, attempt.retryAfterSeconds)
  return attempt
}

/**
 * The checked password or code was wrong: the attempt stays counted. The failure that spends the
 * budget is audited as `account.locked` with its scope (once per window: counts are unique).
 */
export async function recordLockoutFailure(ctx: LockoutContext, attempt: LockoutAttempt, account: { id: string; organizationId: string | null } | null): Promise<void> {
  if (attempt.count === attempt.budget.policy.limit && account) {
    await ctx.audit('account.locked', { subjectUserId: account.id, organizationId: account.organizationId, details: { scope: attempt.budget.scope } })
  }
}

/** The checked password or code was right (a step-up, a password confirmed): the attempt is given back. */
export async function releaseLockoutAttempt(ctx: Pick<LockoutContext, 'db'>, attempt: LockoutAttempt): Promise<void> {
  await returnRateLimitAttempt(ctx.db, attempt.budget.name, attempt.budget.subject)
}

/**
 * After a fully successful sign-in: forgets the failures of the budget this request would spend,
 * and only that one — the owner signing in on a known device must not refill an attacker's budget.
 */
export async function resetLockoutBudget(ctx: Pick<LockoutContext, 'db' | 'cookies' | 'env'>, userId: string): Promise<void> {
  const budget = getLockoutBudget(ctx, userId)
  await resetRateLimit(ctx.db, budget.name, budget.subject)
}
