/**
 * Server-only: turns a procedure's failure caused by an unavailable database into the typed
 * `SERVICE_UNAVAILABLE` answer (HTTP 503 + `Retry-After`), never a 500. Used once, by the base
 * procedure in `trpc/init.ts`; the classification itself lives in `availability.ts`.
 */
import { appError } from '../errors'
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailableError } from './availability'

/** How often the operator's log gets a line during an outage (one per request would flood it). */
const LOG_INTERVAL_MS = 5_000
let lastLoggedAt = 0

/**
 * Passes `result` through, unless it is a failure the database's unavailability caused: then it
 * sets `Retry-After` and throws SERVICE_UNAVAILABLE. The failed call granted nothing (its
 * session, rate-limit and audit writes all needed the database).
 */
export function refuseWhenDatabaseUnavailable<R extends { ok: boolean; error?: unknown }>(result: R, responseHeaders: Headers): R {
  if (result.ok || !isDatabaseUnavailableError(result.error)) return result
  responseHeaders.set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
  const now = Date.now()
  if (now - lastLoggedAt >= LOG_INTERVAL_MS) {
    lastLoggedAt = now
    const cause = describeCause(result.error)
    console.warn(`[db] database unavailable; answering 503 (${cause})`)
  }
  throw appError('SERVICE_UNAVAILABLE')
}

/** The innermost error code and message, for the log line (never SQL or parameters). */
function describeCause(error: unknown): string {
  let current: unknown = error
  let described = 'unknown'
  for (let depth = 0; depth < 8 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') described = code
    current = (current as { cause?: unknown }).cause
  }
  return described
}
