/**
 * `npm test`: every test, in one command. Builds the production bundle (HTTP and browser tests run
 * against it, as users would), then runs all Vitest projects: unit, integration (real database
 * per worker), http (the built server) and e2e (Chromium). Extra arguments go to Vitest.
 */
import { spawnSync } from 'node:child_process'

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, NODE_ENV: undefined } as NodeJS.ProcessEnv })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const extraArgs = process.argv.slice(2)
if (!process.env.GATEHOUSE_SKIP_BUILD) run('vite', ['build', '--logLevel', 'warn'])
run('vitest', ['run', ...extraArgs])
