/**
 * The bench's database: a fresh, migrated `gh_bench_<runId>` on the server the app would use
 * (SPEC §8 resolution), seeded through the app's own modules (users, password hashing, sessions),
 * and dropped at the end. Only databases with the bench prefix are ever dropped.
 */
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { createSession } from '../src/server/auth/session'
import { hashPassword } from '../src/server/auth/password'
import { createDatabase, type DatabaseHandle } from '../src/server/db/client'
import { migrateDatabase } from '../src/server/db/migrate'
import { databaseUrlOn, resolveDatabaseServer } from '../src/server/db/resolve-database'
import { createOrganization, createUser } from '../src/server/users/users'

const BENCH_DATABASE_PREFIX = 'gh_bench_'

export type BenchDatabase = {
  url: string
  serverUrl: string
  handle: DatabaseHandle
  drop: () => Promise<void>
}

/** Creates and migrates a database for this run; `drop()` closes the pool and removes it. */
export async function createBenchDatabase(runId: string): Promise<BenchDatabase> {
  const { serverUrl } = await resolveDatabaseServer()
  const name = `${BENCH_DATABASE_PREFIX}${runId}`.replace(/[^A-Za-z0-9_]/g, '_')
  const url = databaseUrlOn(serverUrl, name)
  await migrateDatabase(url)
  const handle = createDatabase(url, { connectionLimit: 2 })
  return {
    url,
    serverUrl,
    handle,
    drop: async () => {
      await handle.pool.end().catch(() => undefined)
      const connection = await mysql.createConnection({ uri: serverUrl })
      try {
        // The name was built above from a fixed prefix and [A-Za-z0-9_] only.
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await connection.end()
      }
    },
  }
}

/** An organization member with a live password session; returns the cookie token, as sign-in would set it. */
export async function seedViewerSession(handle: DatabaseHandle): Promise<{ token: string; userId: string }> {
  const { db } = handle
  const organization = await createOrganization(db, { name: 'Bench Organization', slug: 'bench' })
  const user = await createUser(db, {
    email: 'viewer@bench.example',
    name: 'Bench Viewer',
    passwordHash: await hashPassword(randomBytes(24).toString('base64url')),
    role: 'member',
    organizationId: organization.id,
    emailVerifiedAt: new Date(),
  })
  // The app's own session module writes the row (id, SHA-256 of the secret, lifetimes, metadata),
  // so the cookie format can never drift from what `auth.me` validates.
  const { token } = await createSession(db, user.id, { ip: '127.0.0.1', userAgent: 'gatehouse-bench', authMethod: 'password', reauthenticatedWith: 'password' }, new Date())
  return { token, userId: user.id }
}

/** `count` verified password users (no MFA) for the sign-in burst; one hash, shared (same cost to verify). */
export async function seedSignInUsers(handle: DatabaseHandle, count: number): Promise<{ emails: string[]; password: string }> {
  const password = `bench-${randomBytes(18).toString('base64url')}`
  const passwordHash = await hashPassword(password)
  const emails: string[] = []
  for (let index = 0; index < count; index++) {
    const email = `signin-${index}@bench.example`
    await createUser(handle.db, { email, name: `Bench ${index}`, passwordHash, role: 'member', organizationId: null, emailVerifiedAt: new Date() })
    emails.push(email)
  }
  return { emails, password }
}

/**
 * Counts writes to `sessions` rows (UPDATE: sliding renewal; DELETE: expiry) with triggers in the
 * bench database. Exact and private to this database, unlike the server-wide `Handler_update`,
 * which other clients of a shared server move too.
 */
export async function installSessionWriteCounter(handle: DatabaseHandle): Promise<void> {
  const { pool } = handle
  await pool.query('CREATE TABLE bench_session_writes (id TINYINT PRIMARY KEY, updates INT NOT NULL, deletes INT NOT NULL)')
  await pool.query('INSERT INTO bench_session_writes VALUES (1, 0, 0)')
  await pool.query(
    'CREATE TRIGGER bench_count_session_updates AFTER UPDATE ON sessions FOR EACH ROW UPDATE bench_session_writes SET updates = updates + 1 WHERE id = 1',
  )
  await pool.query(
    'CREATE TRIGGER bench_count_session_deletes AFTER DELETE ON sessions FOR EACH ROW UPDATE bench_session_writes SET deletes = deletes + 1 WHERE id = 1',
  )
}

/** Session-row writes counted so far (updates + deletes). */
export async function readSessionWriteCount(handle: DatabaseHandle): Promise<number> {
  const [rows] = await handle.pool.query<mysql.RowDataPacket[]>('SELECT updates + deletes AS writes FROM bench_session_writes WHERE id = 1')
  return Number(rows[0]?.writes ?? 0)
}

/** The server's version string (MariaDB or MySQL), for the report. */
export async function readServerVersion(handle: DatabaseHandle): Promise<string> {
  const [rows] = await handle.pool.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version')
  return String(rows[0]?.version ?? 'unknown')
}
