/**
 * `npm test`: every test, in one command. Type-checks, builds the production bundle (HTTP and
 * browser tests run against it, as users would), then runs all Vitest projects: unit,
 * integration (a real database per worker), http (the built server) and e2e (Chromium).
 * Extra arguments go to Vitest, e.g. `npm test -- --project unit`.
 */
import { spawnSync } from 'node:child_process'

function run(label: string, command: string, args: string[]): void {
  const started = Date.now()
  const env = { ...process.env }
  delete env.NODE_ENV
  const result = spawnSync(command, args, { stdio: 'inherit', env })
  if (result.status !== 0) {
    console.error(`[test] ${label} failed`)
    process.exit(result.status ?? 1)
  }
  console.log(`[test] ${label} ok (${((Date.now() - started) / 1000).toFixed(1)} s)`)
}

const extraArgs = process.argv.slice(2)
if (!process.env.GATEHOUSE_SKIP_BUILD) {
  run('typecheck', 'tsc', ['--noEmit'])
  run('build', 'vite', ['build', '--logLevel', 'warn'])
}
run('vitest', 'vitest', ['run', ...extraArgs])
