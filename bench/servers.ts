/**
 * The two servers under test, each in its own process (so /proc charges each for its own CPU):
 * the production build, started exactly as the HTTP tests start it, and the floor.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import appConfig from '../app.config'
import { getFreePort, startAppServer } from '../test/setup/app-server'
import { getChildPid } from './proc-stats'

const PROJECT_ROOT = resolve(import.meta.dirname, '..')
const FLOOR_START_TIMEOUT_MS = 20_000

export type BenchServer = {
  url: string
  pid: number
  output: () => string
  stop: () => Promise<unknown>
}

/**
 * `npm start` on a free port against `databaseUrl` (test/setup/app-server.ts). One trusted proxy
 * hop lets the sign-in burst come from distinct client addresses through `X-Forwarded-For`, as
 * behind a load balancer, so the per-IP sign-in limit does not turn the burst into cheap 429s.
 * Mail stays in the database (the bench sends none, but production requires a transport).
 * `env` adds to that (the SSO section's shared APP_SECRET and loopback IdP allowance).
 */
export async function startBenchAppServer(runId: string, databaseUrl: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const app = await startAppServer({ runId, name: 'bench', databaseUrl, env: { TRUST_PROXY_HOPS: '1', MAIL_TRANSPORT: 'outbox', ...env } })
  const pid = getChildPid(process.pid, 'scripts/start.mjs')
  if (pid === null) {
    await app.stop()
    throw new Error('could not find the production server process under /proc')
  }
  return { url: app.url, pid, output: app.output, stop: app.stop }
}

/** Starts bench/floor-server.ts (Node + tsx's loader, like the CLI) and waits until it listens. */
export async function startFloorServer(databaseUrl: string, sessionCookieName: string): Promise<BenchServer> {
  const port = await getFreePort()
  let output = ''
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/floor-server.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      SESSION_COOKIE_NAME: sessionCookieName,
      RENEWAL_INTERVAL_SECONDS: String(appConfig.session.renewalIntervalSeconds),
      IDLE_TIMEOUT_SECONDS: String(appConfig.session.idleTimeoutSeconds),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const listening = new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`floor server did not start:\n${output}`)), FLOOR_START_TIMEOUT_MS)
    child.stdout!.on('data', (chunk) => {
      output += chunk
      if (output.includes('[floor] listening')) {
        clearTimeout(timer)
        ready()
      }
    })
    child.stderr!.on('data', (chunk) => (output += chunk))
    void exited.then((code) => {
      clearTimeout(timer)
      fail(new Error(`floor server exited (${code}):\n${output}`))
    })
  })
  await listening
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}
