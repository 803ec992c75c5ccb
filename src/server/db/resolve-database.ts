/**
 * Server-only (tooling): finds a MySQL-compatible server for development, the CLI and tests, in the
 * order SPEC §8 fixes: `DATABASE_URL` → a server on 127.0.0.1:3306 → a private server started from
 * an installed `mariadbd`/`mysqld` under `.data/` → a clear message naming `docker compose up -d`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import mysql from 'mysql2/promise'

export type ResolvedDatabase = {
  /** Server URL without a database (`mysql://user@host:port/`). */
  serverUrl: string
  source: 'env' | 'local-server' | 'private-server'
}

const LOCAL_SERVER_URL = 'mysql://root@127.0.0.1:3306/'
const PRIVATE_SERVER_PORT = 3307
const SERVER_BINARIES = ['mariadbd', 'mysqld']
const SEARCH_PATH = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin']

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
}

/** True when a server answers `SELECT 1` at the URL within a short timeout. */
export async function canConnect(serverUrl: string): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: 1500 })
    await connection.query('SELECT 1')
    await connection.end()
    return true
  } catch {
    return false
  }
}

function findServerBinary(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...SEARCH_PATH]) {
    for (const name of SERVER_BINARIES) {
      const candidate = resolve(dir, name)
      if (dir && existsSync(candidate)) return candidate
    }
  }
  return null
}

function findInstallTool(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...SEARCH_PATH]) {
    for (const name of ['mariadb-install-db', 'mysql_install_db']) {
      const candidate = resolve(dir, name)
      if (dir && existsSync(candidate)) return candidate
    }
  }
  return null
}

/**
 * Starts a private, loopback-only server with its data in `<dataRoot>/mysql`, detached so it
 * outlives this process (the next `npm run dev` finds it already listening).
 */
export async function startPrivateServer(dataRoot: string, port = PRIVATE_SERVER_PORT): Promise<string> {
  const serverUrl = `mysql://root@127.0.0.1:${port}/`
  if (await canConnect(serverUrl)) return serverUrl
  const binary = findServerBinary()
  if (!binary) throw new DatabaseUnavailableError('no mariadbd/mysqld binary is installed')
  const dataDir = resolve(dataRoot, 'mysql')
  const runAsRoot = process.getuid?.() === 0 ? ['--user=root'] : []
  if (!existsSync(resolve(dataDir, 'mysql'))) {
    mkdirSync(dataDir, { recursive: true })
    const installTool = findInstallTool()
    const init = installTool
      ? spawnSync(installTool, ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...runAsRoot], { encoding: 'utf8' })
      : spawnSync(binary, ['--no-defaults', '--initialize-insecure', `--datadir=${dataDir}`, ...runAsRoot], { encoding: 'utf8' })
    if (init.status !== 0) {
      throw new DatabaseUnavailableError(`could not initialise ${dataDir}: ${(init.stderr || init.stdout).trim().split('\n').pop()}`)
    }
  }
  const socket = resolve(dataRoot, 'mysql.sock')
  writeFileSync(resolve(dataRoot, 'mysql.log'), '')
  const child = spawn(
    binary,
    [
      // The machine's my.cnf belongs to its own server (its datadir, socket, port, user): ignore it.
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${resolve(dataRoot, 'mysql.pid')}`,
      `--log-error=${resolve(dataRoot, 'mysql.log')}`,
      ...runAsRoot,
    ],
    { detached: true, stdio: 'ignore' },
  )
  child.unref()
  for (let attempt = 0; attempt < 60; attempt++) {
    await new Promise((done) => setTimeout(done, 500))
    if (await canConnect(serverUrl)) return serverUrl
  }
  throw new DatabaseUnavailableError(`the private server did not start; see ${resolve(dataRoot, 'mysql.log')}`)
}

/** Finds a server as SPEC §8 orders it, or throws with the message to show the developer. */
export async function resolveDatabaseServer(options: { env?: NodeJS.ProcessEnv; dataRoot?: string } = {}): Promise<ResolvedDatabase> {
  const env = options.env ?? process.env
  if (env.DATABASE_URL) {
    const url = new URL(env.DATABASE_URL)
    url.pathname = '/'
    return { serverUrl: url.toString(), source: 'env' }
  }
  if (await canConnect(LOCAL_SERVER_URL)) return { serverUrl: LOCAL_SERVER_URL, source: 'local-server' }
  try {
    const serverUrl = await startPrivateServer(options.dataRoot ?? resolve(process.cwd(), '.data'))
    return { serverUrl, source: 'private-server' }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new DatabaseUnavailableError(
      `No MySQL/MariaDB server found: DATABASE_URL is unset, nothing answers on 127.0.0.1:3306, ` +
        `and ${reason}. Start one with \`docker compose up -d db\` (see docker-compose.yml) or set DATABASE_URL.`,
    )
  }
}

/** The URL of database `name` on a resolved server. */
export function databaseUrlOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** `DATABASE_URL` as given, or database `defaultName` on the first server the resolution finds. */
export async function resolveDatabaseUrl(defaultName: string, options: { env?: NodeJS.ProcessEnv; dataRoot?: string } = {}): Promise<{ url: string; source: ResolvedDatabase['source'] }> {
  const env = options.env ?? process.env
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'env' }
  const server = await resolveDatabaseServer(options)
  return { url: databaseUrlOn(server.serverUrl, defaultName), source: server.source }
}
