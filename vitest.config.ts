import { defineConfig } from 'vitest/config'

/**
 * Four projects, one command (`npm test` runs them all after a production build):
 * - unit: pure modules, tests beside the code (src/**\/*.test.ts)
 * - integration: tRPC via createCaller and server modules against a real database per worker
 * - http: the built production server over real HTTP
 * - e2e: Playwright driving Debian's Chromium against the built server
 */
export default defineConfig({
  test: {
    globalSetup: ['test/setup/global.ts'],
    restoreMocks: true,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/setup/worker.ts'],
          testTimeout: 20_000,
          hookTimeout: 60_000,
          // Two cores: two workers, each with its own database.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: { name: 'http', include: ['test/http/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000, maxWorkers: 2 },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, maxWorkers: 1 },
      },
    ],
  },
})
