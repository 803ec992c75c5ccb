/**
 * Server-only: the current time. Tests move it to exercise idle and absolute expiry without
 * waiting; outside NODE_ENV=test the clock cannot be moved.
 */
let offsetMs = 0

/** Now, as a Date (shifted only by tests). */
export function now(): Date {
  return new Date(Date.now() + offsetMs)
}

/** Test-only: shifts the clock forward (or back) by `ms`. */
export function advanceClockForTests(ms: number): void {
  if (process.env.NODE_ENV !== 'test') throw new Error('the clock can only be moved in tests')
  offsetMs += ms
}

/** Test-only: back to real time. */
export function resetClockForTests(): void {
  offsetMs = 0
}
