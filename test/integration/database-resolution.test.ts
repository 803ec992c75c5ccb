/**
 * SPEC §8's database resolution, on real servers: DATABASE_URL wins; otherwise the local server;
 * otherwise a private server started from the installed mariadbd/mysqld under a data folder.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { canConnect, resolveDatabaseServer, resolveDatabaseUrl, startPrivateServer } from '../../src/server/db/resolve-database'
import { getFreePort } from '../setup/app-server'

const hasServerBinary = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].some((path) => existsSync(path))

describe('database resolution', () => {
  it('uses DATABASE_URL as given when it is set', async () => {
    const env = { DATABASE_URL: 'mysql://app:secret@db.internal:3306/gatehouse' }
    expect(await resolveDatabaseUrl('ignored', { env })).toEqual({ url: env.DATABASE_URL, source: 'env' })
    expect(await resolveDatabaseServer({ env })).toEqual({ serverUrl: 'mysql://app:secret@db.internal:3306/', source: 'env' })
  })

  it('finds the server on 127.0.0.1:3306 when DATABASE_URL is unset', async () => {
    expect(await resolveDatabaseUrl('gatehouse_example', { env: {} })).toEqual({ url: 'mysql://root@127.0.0.1:3306/gatehouse_example', source: 'local-server' })
  })

  it.runIf(hasServerBinary)('starts a private, loopback-only server under a data folder, ignoring the machine my.cnf', { timeout: 90_000 }, async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'gatehouse-private-db-'))
    const port = await getFreePort()
    let pid: number | undefined
    try {
      const serverUrl = await startPrivateServer(dataRoot, port)
      expect(serverUrl).toBe(`mysql://root@127.0.0.1:${port}/`)
      expect(await canConnect(serverUrl)).toBe(true)
      pid = Number(readFileSync(join(dataRoot, 'mysql.pid'), 'utf8'))
      // A second `npm run dev` finds it already running instead of starting another.
      expect(await startPrivateServer(dataRoot, port)).toBe(serverUrl)
      expect(Number(readFileSync(join(dataRoot, 'mysql.pid'), 'utf8'))).toBe(pid)
    } finally {
      if (pid) {
        process.kill(pid, 'SIGTERM')
        for (let attempt = 0; attempt < 100 && isAlive(pid); attempt++) await new Promise((done) => setTimeout(done, 100))
      }
      rmSync(dataRoot, { recursive: true, force: true })
    }
  })
})

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
