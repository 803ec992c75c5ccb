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
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { getKnownDeviceId } from './known-devices'
import { consumeRateLimit, describeWait, getBlockedSeconds, resetRateLimit, type RateLimitPolicy } from './rate-limit'

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

/** Seconds until the budget's window ends when it is spent (its clients are refused), else 0. */
export function getLockSeconds(ctx: Pick<LockoutContext, 'db' | 'now'>, budget: LockoutBudget): Promise<number> {
  return getBlockedSeconds(ctx.db, budget.name, budget.policy, budget.subject, ctx.now)
}

/**
 * The 429 of a spent budget, with `Retry-After`. An untrusted client is told the way around it; the
 * sentence is the same for every email, known or not.
 */
export function accountLockedError(ctx: Pick<LockoutContext, 'responseHeaders'>, budget: LockoutBudget, retryAfterSeconds: number) {
  ctx.responseHeaders.set('retry-after', String(retryAfterSeconds))
  const wait = describeWait(retryAfterSeconds)
  return appError(
    'ACCOUNT_LOCKED',
    budget.scope === 'known_device' ? `Too many attempts from this browser. Try again ${wait}.` : `Too many attempts. Try again ${wait}, or from a browser you have signed in with before.`,
  )
}

/**
 * Refuses with ACCOUNT_LOCKED while this request's budget for the account is spent, else returns
 * the budget its failures will count against. Every check of a password or code runs it first, so
 * no entry point (sign-in, MFA challenge, step-up, password change) is an oracle it does not cover.
 */
export async function requireUnlockedBudget(ctx: LockoutContext, subject: string): Promise<LockoutBudget> {
  const budget = getLockoutBudget(ctx, subject)
  const lockSeconds = await getLockSeconds(ctx, budget)
  if (lockSeconds > 0) throw accountLockedError(ctx, budget, lockSeconds)
  return budget
}

/**
 * Counts one failed password or code against the budget; the failure that spends it is audited as
 * `account.locked` with its scope (once per window: appends are serialized, so never per request).
 */
export async function recordLockoutFailure(ctx: LockoutContext, budget: LockoutBudget, account: { id: string; organizationId: string | null } | null): Promise<void> {
  const decision = await consumeRateLimit(ctx.db, budget.name, budget.policy, budget.subject, ctx.now)
  if (decision.count === budget.policy.limit && account) {
    await ctx.audit('account.locked', { subjectUserId: account.id, organizationId: account.organizationId, details: { scope: budget.scope } })
  }
}

/**
 * After a fully successful sign-in: forgets the failures of the budget this request would spend,
 * and only that one — the owner signing in on a known device must not refill an attacker's budget.
 */
export async function resetLockoutBudget(ctx: Pick<LockoutContext, 'db' | 'cookies' | 'env'>, userId: string): Promise<void> {
  const budget = getLockoutBudget(ctx, userId)
  await resetRateLimit(ctx.db, budget.name, budget.subject)
}
