/**
 * Test databases on the real MySQL/MariaDB server: created and migrated per worker (or per
 * server under test), dropped at the end. Names carry a run id so parallel runs never collide,
 * and only databases this harness created (prefix `gh_test_`) are ever dropped.
 */
import mysql from 'mysql2/promise'
import { migrateDatabase } from '../../src/server/db/migrate'
import { databaseUrlOn, resolveDatabaseServer } from '../../src/server/db/resolve-database'

export const TEST_DATABASE_PREFIX = 'gh_test_'

/** The server every test database lives on (same resolution as `npm run dev`). */
export async function getTestServerUrl(): Promise<string> {
  if (process.env.GATEHOUSE_TEST_SERVER_URL) return process.env.GATEHOUSE_TEST_SERVER_URL
  const { serverUrl } = await resolveDatabaseServer()
  process.env.GATEHOUSE_TEST_SERVER_URL = serverUrl
  return serverUrl
}

/** Creates and migrates `gh_test_<runId>_<suffix>`; returns its URL. */
export async function createMigratedTestDatabase(runId: string, suffix: string): Promise<string> {
  const name = `${TEST_DATABASE_PREFIX}${runId}_${suffix}`.replace(/[^A-Za-z0-9_]/g, '_')
  const url = databaseUrlOn(await getTestServerUrl(), name)
  await migrateDatabase(url)
  return url
}

/** Drops every database of this run (and only those). */
export async function dropTestDatabases(runId: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: await getTestServerUrl() })
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SHOW DATABASES LIKE ?', [`${TEST_DATABASE_PREFIX}${runId}\\_%`])
    for (const row of rows) {
      const name = String(Object.values(row)[0])
      if (name.startsWith(`${TEST_DATABASE_PREFIX}${runId}_`)) await connection.query(`DROP DATABASE \`${name}\``)
    }
  } finally {
    await connection.end()
  }
}

/** Empties every table except the migration journal (between test files on one worker). */
export async function truncateAllTables(url: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url })
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> '__drizzle_migrations'",
    )
    await connection.query('SET FOREIGN_KEY_CHECKS = 0')
    for (const row of rows) await connection.query(`TRUNCATE TABLE \`${row.name}\``)
    await connection.query('SET FOREIGN_KEY_CHECKS = 1')
  } finally {
    await connection.end()
  }
}
