/**
 * Server-only: bounded waits on the database and what "the database is unavailable" means
 * (issue 11 item 10; ADR 011). A frozen database — the server accepts packets and never answers —
 * used to hang every request for as long as the freeze lasted. Now:
 *
 * - **Acquire timeout**: a request waits at most `acquireTimeoutMs` for a pooled connection
 *   (including the time to open one); then its query fails with `DATABASE_ACQUIRE_TIMEOUT`.
 * - **Query timeout**: a connection with a command in flight that receives nothing for
 *   `queryTimeoutMs` is destroyed and its command fails with `DATABASE_QUERY_TIMEOUT`; the pool
 *   opens a fresh connection for the next request, so recovery needs nobody.
 * - **Classification**: `isDatabaseUnavailableError` recognises those and the driver's own
 *   network and server-gone errors through any chain of `cause`s (drizzle and tRPC wrap them).
 *   The tRPC layer answers them with 503 + `Retry-After`, never 500 — and since the request
 *   failed, it granted nothing.
 */
import type { Pool as PromisePool } from 'mysql2/promise'

export type DatabaseTimeouts = {
  /** Longest wait for a pooled connection, opening one included. */
  acquireTimeoutMs: number
  /** Longest silence from the server while a query is in flight; null: unbounded (migrations). */
  queryTimeoutMs: number | null
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { acquireTimeoutMs: 2_000, queryTimeoutMs: 5_000 }

/** What clients are told to wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5

type DatabaseUnavailableCode = 'DATABASE_ACQUIRE_TIMEOUT' | 'DATABASE_QUERY_TIMEOUT'

/** Our own timeout errors; mysql2's promise wrapper copies `code` (not the class), so `code` is what counts. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
  readonly fatal = true
  constructor(
    readonly code: DatabaseUnavailableCode,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Driver and server codes that mean "no usable database right now", as opposed to a bug or a
 * constraint violation (which stay 500 / their own mapping): our timeouts; the network failing or
 * refusing (connect timeout, refused, reset, lost); the server shutting down or out of connections.
 */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'DATABASE_ACQUIRE_TIMEOUT',
  'DATABASE_QUERY_TIMEOUT',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
])

/** True when `error` (or any error in its `cause` chain) says the database cannot be reached or did not answer in time. */
export function isDatabaseUnavailableError(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 8 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true
    // mysql2 marks connection-level failures fatal (the connection is unusable), e.g. a command
    // added to a connection that died a moment ago.
    if ((current as { fatal?: unknown }).fatal === true && current instanceof Error && !(current instanceof DatabaseUnavailableError)) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/** The slice of mysql2's callback pool and connection this module touches. */
type CoreConnection = {
  stream: import('node:net').Socket
  /** The command in flight (mysql2 internal); null/undefined while the connection idles. */
  _command?: unknown
  /** Takes the connection out of the pool (mysql2 internal, present on pooled connections). */
  _removeFromPool?: () => void
  release: () => void
}
type CorePool = {
  getConnection: (callback: (error: Error | null, connection?: CoreConnection) => void) => void
  on: (event: 'connection', listener: (connection: CoreConnection) => void) => void
}

/**
 * Applies `timeouts` to a mysql2 pool. Every path to the server (drizzle queries, transactions,
 * prepared statements on `$client`) takes a connection through the core pool's `getConnection`
 * and talks over that connection's socket, so bounding those two bounds every database call.
 * The mysql2 internals used here are covered by `test/http/database-frozen.test.ts`.
 */
export function applyDatabaseTimeouts(pool: PromisePool, timeouts: DatabaseTimeouts): void {
  const corePool = (pool as unknown as { pool: CorePool }).pool
  const acquire = corePool.getConnection.bind(corePool)
  corePool.getConnection = (callback) => {
    let isSettled = false
    const timer = setTimeout(() => {
      isSettled = true
      callback(new DatabaseUnavailableError('DATABASE_ACQUIRE_TIMEOUT', `no database connection within ${timeouts.acquireTimeoutMs} ms`))
    }, timeouts.acquireTimeoutMs)
    acquire((error, connection) => {
      if (isSettled) {
        // The caller gave up; a connection that shows up late goes straight back to the pool.
        connection?.release()
        return
      }
      isSettled = true
      clearTimeout(timer)
      callback(error, connection)
    })
  }

  const { queryTimeoutMs } = timeouts
  if (queryTimeoutMs === null) return
  corePool.on('connection', (connection) => {
    // Socket inactivity, not wall time: a query streaming a large result keeps the timer reset.
    connection.stream.setTimeout(queryTimeoutMs)
    connection.stream.on('timeout', () => {
      if (!connection._command) return // idle in the pool: nobody is waiting
      connection._removeFromPool?.()
      // mysql2 fails the in-flight command (and any queued behind it) with this error.
      connection.stream.destroy(new DatabaseUnavailableError('DATABASE_QUERY_TIMEOUT', `no answer from the database within ${queryTimeoutMs} ms`))
    })
  })
}
