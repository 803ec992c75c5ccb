/**
 * Per-test-file setup (integration): points the app at this worker's own migrated database,
 * empties it before the file runs, and fails any test that logs an unexpected `console.error`
 * (an error nobody asserted on is a bug hiding in a green run).
 */
import { afterAll, afterEach, beforeAll, beforeEach, inject, vi } from 'vitest'
import { randomBytes } from 'node:crypto'
import { createMigratedTestDatabase, truncateAllTables } from './database'
import { resetServerEnvForTests } from '../../src/server/env'
import { runShutdownHooks } from '../../src/server/lifecycle'

const runId = inject('runId')
process.env.GATEHOUSE_TEST_SERVER_URL = inject('testServerUrl')
const workerId = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '0'

process.env.NODE_ENV = 'test'
process.env.APP_URL = 'http://localhost:3000'
process.env.APP_SECRET ??= randomBytes(32).toString('base64url')

let consoleErrorSpy: { mock: { calls: unknown[][] }; mockRestore: () => void }
let expectedConsoleErrors = 0

/** Declares that the current test is expected to log `count` console errors. */
export function expectConsoleErrors(count = 1): void {
  expectedConsoleErrors += count
}

beforeAll(async () => {
  const url = await createMigratedTestDatabase(runId, `w${workerId}`)
  await truncateAllTables(url)
  process.env.DATABASE_URL = url
  resetServerEnvForTests()
})

beforeEach(() => {
  expectedConsoleErrors = 0
  consoleErrorSpy = vi.spyOn(console, 'error')
})

afterEach(() => {
  const calls = consoleErrorSpy.mock.calls
  consoleErrorSpy.mockRestore()
  if (calls.length > expectedConsoleErrors) {
    throw new Error(`unexpected console.error:\n${calls.map((call) => call.map(String).join(' ')).join('\n')}`)
  }
})

afterAll(async () => {
  await runShutdownHooks()
})
