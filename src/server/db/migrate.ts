/**
 * Server-only: applies the committed migrations in `db/migrations/`, creating the database first
 * when it is missing (the drizzle migrator does not).
 */
import { migrate } from 'drizzle-orm/mysql2/migrator'
import mysql from 'mysql2/promise'
import { fileURLToPath } from 'node:url'
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './availability'
import { createDatabase } from './client'

/** A migration's DDL may run for minutes without a byte on the wire: no query timeout here. */
const MIGRATION_TIMEOUTS: DatabaseTimeouts = { acquireTimeoutMs: DEFAULT_DATABASE_TIMEOUTS.acquireTimeoutMs * 5, queryTimeoutMs: null }

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../db/migrations', import.meta.url))

/** Splits a mysql:// URL into the server URL and the database name. */
export function splitDatabaseUrl(url: string): { serverUrl: string; database: string } {
  const parsed = new URL(url)
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) {
    throw new Error('DATABASE_URL must name a database of letters, digits and underscores')
  }
  parsed.pathname = '/'
  return { serverUrl: parsed.toString(), database }
}

/** `CREATE DATABASE IF NOT EXISTS` with a utf8mb4 default, portable across MySQL 8.4 and MariaDB. */
export async function createDatabaseIfMissing(url: string): Promise<void> {
  const { serverUrl, database } = splitDatabaseUrl(url)
  const connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: 3000 })
  try {
    // The name was checked against a strict pattern above; identifiers cannot be bound as parameters.
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  } finally {
    await connection.end()
  }
}

/** Creates the database when missing and applies every pending migration. */
export async function migrateDatabase(url: string): Promise<void> {
  await createDatabaseIfMissing(url)
  const { db, pool } = createDatabase(url, { connectionLimit: 1, timeouts: MIGRATION_TIMEOUTS })
  try {
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })
  } finally {
    await pool.end()
  }
}
