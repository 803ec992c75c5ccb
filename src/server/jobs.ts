/**
 * Server-only: periodic maintenance every instance runs. Each job is idempotent, so N instances
 * running it is harmless; timers are unref'd and cleared on shutdown.
 */
import { onShutdown } from './lifecycle'

export type BackgroundJob = { name: string; intervalSeconds: number; run: () => Promise<unknown> }

/** Every job the server schedules; later modules add theirs here. */
const JOBS: BackgroundJob[] = []

let isStarted = false

/** Starts each job's timer once per process (tests call the jobs' functions directly instead). */
export function startBackgroundJobs(jobs: BackgroundJob[] = JOBS): void {
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
