/**
 * Starts the built production server (`npm start` → `scripts/start.mjs`) on a free port against a
 * fresh migrated database, exactly as an operator would run it. Used by HTTP and browser tests and
 * by the benches (which read the child's CPU and memory from /proc through `pid`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { createMigratedTestDatabase } from './database'

const PROJECT_ROOT = resolve(import.meta.dirname, '../..')

/** The node flags `npm start` passes (package.json), so tests and the bench run what operators run. */
export const NPM_START_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8']

export type RunningAppServer = {
  url: string
  port: number
  databaseUrl: string
  /** The server's own process (the node running scripts/start.mjs), for /proc/<pid> sampling. */
  pid: number
  /** Everything the process printed so far (stdout + stderr). */
  output: () => string
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop: () => Promise<number | null>
}

/** A TCP port the OS says is free right now. */
export async function getFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

/** Spawns the production server; `databaseUrl` lets two instances share one database. */
export async function startAppServer(options: {
  runId: string
  name: string
  databaseUrl?: string
  env?: Record<string, string>
  /** Another built copy of the project (tests that change the source and build it). */
  projectRoot?: string
  /**
   * The host name in the app's URL (APP_URL): `127.0.0.1` by default; `localhost` when another
   * loopback site must be a different site (browser tests with the local IdP on 127.0.0.1).
   */
  publicHost?: 'localhost' | '127.0.0.1'
  /** Node flags instead of `NPM_START_NODE_FLAGS` (the memory bench adds `--expose-gc`, tries others). */
  nodeFlags?: readonly string[]
}): Promise<RunningAppServer> {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT
  if (!existsSync(resolve(projectRoot, 'dist/server/server.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does it for you)')
  }
  const databaseUrl = options.databaseUrl ?? (await createMigratedTestDatabase(options.runId, options.name))
  // getFreePort's answer is only true until another worker asks: two servers can race for one port.
  // The loser exits with EADDRINUSE while the winner answers /api/health, so health alone could
  // hand this test someone else's server (another database: "wrong password", then ECONNREFUSED
  // when that server stops). Ours is up only when *our* child says it listens; a lost race retries.
  for (let attempt = 1; ; attempt++) {
    const started = await spawnOnFreePort(projectRoot, databaseUrl, options)
    if (started.isListening) return started.server
    if (!started.isPortTaken || attempt === 3) throw new Error(`server exited early (${started.exitCode}):\n${started.output}`)
  }
}

async function spawnOnFreePort(
  projectRoot: string,
  databaseUrl: string,
  options: { env?: Record<string, string>; publicHost?: 'localhost' | '127.0.0.1'; nodeFlags?: readonly string[] },
): Promise<{ isListening: true; server: RunningAppServer } | { isListening: false; isPortTaken: boolean; exitCode: number; output: string }> {
  const port = await getFreePort()
  const url = `http://${options.publicHost ?? '127.0.0.1'}:${port}`
  let output = ''
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? NPM_START_NODE_FLAGS), 'scripts/start.mjs'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: url,
      APP_SECRET: randomBytes(32).toString('base64url'),
      DATABASE_URL: databaseUrl,
      // No SMTP relay can run here: mail goes to the outbox table, where tests read the links.
      MAIL_TRANSPORT: 'outbox',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const listeningLine = `listening on http://127.0.0.1:${port} `

  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return { isListening: false, isPortTaken: output.includes('EADDRINUSE'), exitCode: child.exitCode, output }
    if (output.includes(listeningLine)) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/api/health`)
        if (response.ok) break
      } catch {
        // listening, not answering yet
      }
    }
    await new Promise((done) => setTimeout(done, 100))
  }
  if (Date.now() >= deadline) {
    child.kill('SIGKILL')
    throw new Error(`server did not become healthy:\n${output}`)
  }
  const server: RunningAppServer = {
    url,
    port,
    databaseUrl,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
  return { isListening: true, server }
}
