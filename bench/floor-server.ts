/**
 * The bench's floor: a bare `node:http` + `mysql2` handler doing exactly the session lookup that
 * `auth.me` does (src/server/auth/session.ts `validateSessionToken`): one indexed query, sessions ⋈
 * users ⟕ organizations, with the same columns, the same text-protocol `query()` and row shape
 * drizzle sends, the same constant-time hash compare, expiry checks and renewal rule. Then a JSON
 * body shaped like a tRPC response. No framework, no router, no middleware: the cost no framework
 * can go below. Run as its own process so its CPU time can be read from /proc.
 *
 * Env: DATABASE_URL, PORT, SESSION_COOKIE_NAME, RENEWAL_INTERVAL_SECONDS, IDLE_TIMEOUT_SECONDS, ROLES,
 * DEFAULT_MFA_POLICY (the bench passes app.config.ts values).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import mysql from 'mysql2/promise'

const SESSION_LOOKUP_SQL =
  'select `sessions`.`id`, `sessions`.`secret_hash`, `sessions`.`user_id`, `sessions`.`created_at`, `sessions`.`expires_at`, ' +
  '`sessions`.`absolute_expires_at`, `sessions`.`last_seen_at`, `sessions`.`ip`, `sessions`.`user_agent`, `sessions`.`auth_method`, ' +
  '`sessions`.`sso_connection_id`, `sessions`.`mfa_satisfied_at`, `sessions`.`mfa_failed_attempts`, `sessions`.`reauthenticated_at`, ' +
  '`users`.`id`, `users`.`organization_id`, `users`.`email`, `users`.`email_verified_at`, `users`.`name`, `users`.`password_hash`, ' +
  '`users`.`role`, `users`.`disabled_at`, `users`.`mfa_enabled_at`, `users`.`created_at`, `users`.`updated_at`, ' +
  '`organizations`.`id`, `organizations`.`name`, `organizations`.`slug`, `organizations`.`mfa_policy`, `organizations`.`mfa_required_min_role` ' +
  'from `sessions` inner join `users` on `users`.`id` = `sessions`.`user_id` ' +
  'left join `organizations` on `organizations`.`id` = `users`.`organization_id` where `sessions`.`id` = ? limit ?'

// Column positions in the row array above.
const S_ID = 0, S_SECRET_HASH = 1, S_CREATED_AT = 3, S_EXPIRES_AT = 4, S_ABSOLUTE_EXPIRES_AT = 5, S_LAST_SEEN_AT = 6
const S_AUTH_METHOD = 9, S_SSO_CONNECTION_ID = 10, S_MFA_SATISFIED_AT = 11, S_REAUTHENTICATED_AT = 13
const U_ID = 14, U_EMAIL = 16, U_EMAIL_VERIFIED_AT = 17, U_NAME = 18, U_ROLE = 20, U_DISABLED_AT = 21, U_MFA_ENABLED_AT = 22
const O_ID = 25, O_NAME = 26, O_SLUG = 27, O_MFA_POLICY = 28, O_MFA_REQUIRED_MIN_ROLE = 29

const SESSION_ID_PATTERN = /^[a-z2-7]{26}$/
const SESSION_SECRET_PATTERN = /^[a-z2-7]{32}$/

const env = process.env
const cookieName = env.SESSION_COOKIE_NAME ?? 'gatehouse_session'
const renewalIntervalMs = Number(env.RENEWAL_INTERVAL_SECONDS ?? 3600) * 1000
const idleTimeoutMs = Number(env.IDLE_TIMEOUT_SECONDS ?? 604800) * 1000
const roles = (env.ROLES ?? 'member,admin,owner').split(',')
const defaultMfaPolicy = env.DEFAULT_MFA_POLICY ?? 'optional'

// Same pool settings as src/server/db/client.ts, so both servers pay for the same connections.
const pool = mysql.createPool({ uri: env.DATABASE_URL, connectionLimit: 10, timezone: 'Z', enableKeepAlive: true })
pool.on('connection', (connection) => {
  connection.query("SET time_zone = '+00:00'")
})

// drizzle reads DATETIME columns as strings and parses them as UTC; doing the same keeps the work equal.
const datetimeAsString: mysql.TypeCast = (field, next) =>
  field.type === 'TIMESTAMP' || field.type === 'DATETIME' || field.type === 'DATE' ? field.string() : next()
const parseUtc = (value: string | null): Date | null => (value === null ? null : new Date(value.replace(' ', 'T') + 'Z'))

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

  const [rows] = await pool.query<mysql.RowDataPacket[]>({ sql: SESSION_LOOKUP_SQL, rowsAsArray: true, typeCast: datetimeAsString }, [id, 1])
  const row = rows[0]
  if (!row) return null
  const presented = createHash('sha256').update(secret).digest()
  const stored = Buffer.from(row[S_SECRET_HASH] as string, 'hex')
  if (stored.length !== presented.length || !timingSafeEqual(presented, stored)) return null

  const expiresAt = parseUtc(row[S_EXPIRES_AT])!
  const absoluteExpiresAt = parseUtc(row[S_ABSOLUTE_EXPIRES_AT])!
  if (now >= expiresAt || now >= absoluteExpiresAt || row[U_DISABLED_AT] !== null) {
    await pool.query('delete from `sessions` where `sessions`.`id` = ?', [id])
    return null
  }
  const lastSeenAt = parseUtc(row[S_LAST_SEEN_AT])!
  if (now.getTime() - lastSeenAt.getTime() >= renewalIntervalMs) {
    const renewed = new Date(Math.min(now.getTime() + idleTimeoutMs, absoluteExpiresAt.getTime()))
    await pool.query('update `sessions` set `expires_at` = ?, `last_seen_at` = ? where `sessions`.`id` = ?', [renewed, now, id])
  }
  // The viewer as src/server/auth/viewer.ts shapes it, MFA state decided as mfa-policy.ts does.
  const mfaState = row[S_MFA_SATISFIED_AT] !== null ? 'satisfied' : row[U_MFA_ENABLED_AT] !== null ? 'pending' : isMfaRequiredByPolicy(row) ? 'enrollment_required' : 'not_required'
  if (mfaState === 'pending') return { status: 'mfa-pending' }
  return {
    status: mfaState === 'enrollment_required' ? 'mfa-enrollment-required' : 'signed-in',
    user: {
      id: row[U_ID],
      email: row[U_EMAIL],
      name: row[U_NAME],
      role: row[U_ROLE],
      isEmailVerified: row[U_EMAIL_VERIFIED_AT] !== null,
      isMfaEnabled: row[U_MFA_ENABLED_AT] !== null,
      organization: row[O_ID] ? { id: row[O_ID], name: row[O_NAME], slug: row[O_SLUG] } : null,
    },
    session: {
      id: row[S_ID],
      authMethod: row[S_AUTH_METHOD],
      ssoConnectionId: row[S_SSO_CONNECTION_ID],
      createdAt: parseUtc(row[S_CREATED_AT])!.toISOString(),
      mfaSatisfiedAt: parseUtc(row[S_MFA_SATISFIED_AT])?.toISOString() ?? null,
      reauthenticatedAt: parseUtc(row[S_REAUTHENTICATED_AT])!.toISOString(),
    },
  }
}

function isMfaRequiredByPolicy(row: mysql.RowDataPacket): boolean {
  const policy = row[O_MFA_POLICY] ?? defaultMfaPolicy
  if (policy === 'required') return true
  return policy === 'required_for_role' && row[O_MFA_REQUIRED_MIN_ROLE] !== null && roles.indexOf(row[U_ROLE]) >= roles.indexOf(row[O_MFA_REQUIRED_MIN_ROLE])
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
