/**
 * Server-only: periodic maintenance every instance runs. Each job is an idempotent DELETE of
 * expired rows, so N instances running it is harmless; timers are unref'd and cleared on shutdown.
 */
import appConfig from '../../app.config'
import { purgeExpiredOneTimeTokens } from './auth/one-time-tokens'
import { purgeExpiredRateLimitBuckets } from './auth/rate-limit'
import { purgeExpiredSessions } from './auth/session'
import { now } from './clock'
import { getDb } from './db/client'
import { onShutdown } from './lifecycle'
import { purgeExpiredSsoLoginFlows } from './sso/login-flows'
import { purgeExpiredSsoConsumedAssertions } from './sso/saml/saml-replay-store'

export type BackgroundJob = { name: string; intervalSeconds: number; run: () => Promise<unknown> }

/** Every job the server schedules. */
export const BACKGROUND_JOBS: BackgroundJob[] = [
  { name: 'purge-expired-sessions', intervalSeconds: appConfig.session.purgeIntervalSeconds, run: () => purgeExpiredSessions(getDb(), now()) },
  { name: 'purge-expired-one-time-tokens', intervalSeconds: appConfig.session.purgeIntervalSeconds, run: () => purgeExpiredOneTimeTokens(getDb(), now()) },
  { name: 'purge-expired-sso-login-flows', intervalSeconds: appConfig.session.purgeIntervalSeconds, run: () => purgeExpiredSsoLoginFlows(getDb(), now()) },
  { name: 'purge-expired-sso-consumed-assertions', intervalSeconds: appConfig.session.purgeIntervalSeconds, run: () => purgeExpiredSsoConsumedAssertions(getDb(), now()) },
  { name: 'purge-expired-rate-limit-buckets', intervalSeconds: appConfig.session.purgeIntervalSeconds, run: () => purgeExpiredRateLimitBuckets(getDb(), now()) },
]

let isStarted = false

/** Starts each job's timer once per process (tests call the jobs' functions directly instead). */
export function startBackgroundJobs(jobs: BackgroundJob[] = BACKGROUND_JOBS): void {
  if (isStarted || process.env.NODE_ENV === 'test') return
  isStarted = true
  const timers = jobs.map((job) => {
    const timer = setInterval(() => {
      job.run().catch((error) => console.error(`[jobs] ${job.name} failed:`, error instanceof Error ? error.message : error))
    }, job.intervalSeconds * 1000)
    timer.unref()
    return timer
  })
  onShutdown(() => timers.forEach(clearInterval))
}
