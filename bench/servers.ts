/**
 * The two servers under test, each in its own process (so /proc charges each for its own CPU):
 * the production build, started exactly as the HTTP tests start it, and the floor.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import appConfig from '../app.config'
import { startAppServer } from '../test/setup/app-server'

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
  // startAppServer waits for its own child's "listening" line (a reused port could otherwise hand
  // the bench another process's server) and hands back that child's pid for the CPU readings.
  const app = await startAppServer({ runId, name: 'bench', databaseUrl, env: { TRUST_PROXY_HOPS: '1', MAIL_TRANSPORT: 'outbox', ...env } })
  return { url: app.url, pid: app.pid, output: app.output, stop: app.stop }
}

/**
 * Starts bench/floor-server.ts (Node + tsx's loader, like the CLI) and waits until it listens. It
 * listens on port 0 and prints the port the OS gave it: no free-port guess for another process to
 * take first, and the URL is the one its own child reported.
 */
export async function startFloorServer(databaseUrl: string, sessionCookieName: string): Promise<BenchServer> {
  let output = ''
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/floor-server.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      SESSION_COOKIE_NAME: sessionCookieName,
      RENEWAL_INTERVAL_SECONDS: String(appConfig.session.renewalIntervalSeconds),
      IDLE_TIMEOUT_SECONDS: String(appConfig.session.idleTimeoutSeconds),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const port = await new Promise<number>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`floor server did not start:\n${output}`))
    }, FLOOR_START_TIMEOUT_MS)
    child.stdout!.on('data', (chunk) => {
      output += chunk
      const listening = output.match(/\[floor\] listening on (\d+)/)
      if (listening) {
        clearTimeout(timer)
        ready(Number(listening[1]))
      }
    })
    child.stderr!.on('data', (chunk) => (output += chunk))
    void exited.then((code) => {
      clearTimeout(timer)
      fail(new Error(`floor server exited (${code}):\n${output}`))
    })
  })
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
