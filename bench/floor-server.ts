/**
 * The bench's floor: a bare `node:http` + `mysql2` handler doing exactly the session lookup that
 * `auth.me` does (src/server/auth/session.ts `validateSessionToken`): one indexed query, sessions ⋈
 * users ⟕ organizations, the very statement and row mapping of src/server/auth/session-lookup.ts,
 * the same constant-time hash compare, expiry checks and renewal rule. Then a JSON
 * body shaped like a tRPC response. No framework, no router, no middleware: the cost no framework
 * can go below. Run as its own process so its CPU time can be read from /proc.
 *
 * Env: DATABASE_URL, PORT (0: any free port; the `[floor] listening on` line names it),
 * SESSION_COOKIE_NAME, RENEWAL_INTERVAL_SECONDS, IDLE_TIMEOUT_SECONDS (the bench passes
 * app.config.ts values).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import mysql from 'mysql2/promise'
import { getMfaState } from '../src/server/auth/mfa-policy'
import { lookupSession } from '../src/server/auth/session-lookup'
import { toViewer } from '../src/server/auth/viewer'

const SESSION_ID_PATTERN = /^[a-z2-7]{26}$/
const SESSION_SECRET_PATTERN = /^[a-z2-7]{32}$/

const env = process.env
const cookieName = env.SESSION_COOKIE_NAME ?? 'gatehouse_session'
const renewalIntervalMs = Number(env.RENEWAL_INTERVAL_SECONDS ?? 3600) * 1000
const idleTimeoutMs = Number(env.IDLE_TIMEOUT_SECONDS ?? 604800) * 1000

// Same pool settings as src/server/db/client.ts, so both servers pay for the same connections.
const pool = mysql.createPool({ uri: env.DATABASE_URL, connectionLimit: 10, timezone: 'Z', enableKeepAlive: true, trace: false })
pool.on('connection', (connection) => {
  connection.query("SET time_zone = '+00:00'")
})

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator > 0 && part.slice(0, separator).trim() === name) return decodeURIComponent(part.slice(separator + 1).trim())
  }
  return null
}

async function lookUpViewer(token: string | null, now: Date) {
  if (!token) return null
  const separator = token.indexOf('.')
  const id = token.slice(0, separator)
  const secret = token.slice(separator + 1)
  if (separator < 0 || !SESSION_ID_PATTERN.test(id) || !SESSION_SECRET_PATTERN.test(secret)) return null

  // The app's own statement, sent the same way (prepared, binary rows, mapped by hand).
  const row = await lookupSession(pool, id)
  if (!row) return null
  const presented = createHash('sha256').update(secret).digest()
  const stored = Buffer.from(row.session.secretHash, 'hex')
  if (stored.length !== presented.length || !timingSafeEqual(presented, stored)) return null

  const { session, user, organization } = row
  if (now >= session.expiresAt || now >= session.absoluteExpiresAt || user.disabledAt !== null) {
    await pool.execute('DELETE FROM sessions WHERE id = ?', [id])
    return null
  }
  if (now.getTime() - session.lastSeenAt.getTime() >= renewalIntervalMs) {
    const renewed = new Date(Math.min(now.getTime() + idleTimeoutMs, session.absoluteExpiresAt.getTime()))
    await pool.execute('UPDATE sessions SET expires_at = ?, last_seen_at = ? WHERE id = ?', [renewed, now, id])
  }
  // The viewer exactly as auth.me shapes it (the same pure functions, so the work is equal).
  return toViewer({ session, user, organization, mfaState: getMfaState(session, user, organization) })
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store' })
  res.end(json)
}

const server = createServer((req, res) => {
  lookUpViewer(readCookie(req.headers.cookie, cookieName), new Date()).then(
    (viewer) => sendJson(res, 200, { result: { data: viewer } }),
    (error: unknown) => {
      console.error('[floor] lookup failed:', error instanceof Error ? error.message : error)
      sendJson(res, 500, { error: 'internal' })
    },
  )
})
// Same idle keep-alive as scripts/start.mjs.
server.keepAliveTimeout = 5_000

server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address()
  console.log(`[floor] listening on ${typeof address === 'object' && address ? address.port : '?'}`)
})

const shutdown = () => {
  server.close(() => void pool.end())
  server.closeIdleConnections()
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
