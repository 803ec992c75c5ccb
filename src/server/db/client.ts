/**
 * Server-only: the MySQL pool and drizzle instance. One pool per process, created on first use and
 * closed on shutdown (an open pool keeps Node alive after SIGTERM).
 */
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2'
import mysql from 'mysql2/promise'
import * as schema from '../../../db/schema'
import { getServerEnv } from '../env'
import { onShutdown } from '../lifecycle'
import { applyDatabaseTimeouts, DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './availability'

export type Database = MySql2Database<typeof schema>

/** The pool-backed instance (not a transaction): `$client` reaches mysql2 for prepared hot-path queries. */
export type PooledDatabase = Database & { $client: mysql.Pool }

export type DatabaseHandle = { db: PooledDatabase; pool: mysql.Pool }

/**
 * Creates a pool whose every connection speaks UTC, so drizzle's UTC dates match column DEFAULTs,
 * and whose every wait is bounded (`availability.ts`): a frozen database fails requests fast
 * instead of hanging them.
 */
export function createDatabase(url: string, options: { connectionLimit?: number; timeouts?: DatabaseTimeouts } = {}): DatabaseHandle {
  const timeouts = options.timeouts ?? DEFAULT_DATABASE_TIMEOUTS
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: options.connectionLimit ?? 10,
    timezone: 'Z',
    // Opening a connection is part of acquiring one: the same bound.
    connectTimeout: timeouts.acquireTimeoutMs,
    enableKeepAlive: true,
    // Never let a stray string build a multi-statement query (SQL injection blast radius).
    multipleStatements: false,
    // mysql2 captures a stack trace on every query to decorate errors; in production that costs
    // ~5% of a request's CPU (measured by `npm run bench`), and the logged error keeps its message.
    trace: process.env.NODE_ENV !== 'production',
  })
  pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'")
  })
  applyDatabaseTimeouts(pool, timeouts)
  return { db: drizzle(pool, { schema, mode: 'default' }), pool }
}

let handle: DatabaseHandle | undefined

/** The process-wide database; requires `DATABASE_URL` (resolved by the dev script, CLI or operator). */
export function getDatabase(): DatabaseHandle {
  if (handle) return handle
  const { databaseUrl: url, databaseTimeouts } = getServerEnv()
  if (!url) throw new Error('DATABASE_URL is not set (npm run dev and the CLI resolve it; production must set it)')
  const created = createDatabase(url, { timeouts: databaseTimeouts })
  handle = created
  onShutdown(async () => {
    if (handle === created) handle = undefined
    await created.pool.end()
  })
  return created
}

/** Shorthand for handlers: the drizzle instance of the process-wide pool. */
export function getDb(): PooledDatabase {
  return getDatabase().db
}
