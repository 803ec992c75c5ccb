/**
 * Server-only: the one query every authenticated request makes — a session by id, joined with its
 * user and organization. It runs on every request, so it is a prepared statement (mysql2 caches it
 * per connection: parsed once by the server, binary rows) mapped by hand, instead of a query that
 * drizzle rebuilds and maps on each call (a third of `auth.me`'s CPU when measured by `npm run bench`).
 * The bench's floor server sends this exact statement too.
 */
import type mysql from 'mysql2/promise'
import type { AuthMethod, MfaPolicy, Organization, ReauthFactor, Session, User } from '../../../db/schema'
import type { Role } from '../../lib/roles'

export type SessionOrganization = Pick<Organization, 'id' | 'name' | 'slug' | 'mfaPolicy' | 'mfaRequiredMinRole'>

/** The role mapping of the connection an SSO session signed in through (its authority, ADR 014). */
export type SessionConnectionMapping = { groupRoleMap: Record<string, string>; defaultRole: string }

export type SessionLookupRow = { session: Session; user: User; organization: SessionOrganization | null; ssoConnection: SessionConnectionMapping | null }

/** Column order is the contract of `mapSessionLookupRow`; keep the two together. */
export const SESSION_LOOKUP_SQL = [
  'SELECT s.id, s.secret_hash, s.user_id, s.created_at, s.expires_at, s.absolute_expires_at, s.last_seen_at,',
  '  s.ip, s.user_agent, s.auth_method, s.sso_connection_id, s.mfa_satisfied_at, s.mfa_failed_attempts, s.reauthenticated_at,',
  '  u.organization_id, u.email, u.email_verified_at, u.name, u.password_hash, u.role, u.disabled_at, u.mfa_enabled_at,',
  '  u.created_at, u.updated_at,',
  '  o.id, o.name, o.slug, o.mfa_policy, o.mfa_required_min_role,',
  '  s.reauthenticated_with, s.mfa_method, s.idp_authn_context, s.password_needs_second_factor,',
  '  c.group_role_map, c.default_role',
  'FROM sessions s',
  'INNER JOIN users u ON u.id = s.user_id',
  'LEFT JOIN organizations o ON o.id = u.organization_id',
  'LEFT JOIN sso_connections c ON c.id = s.sso_connection_id',
  'WHERE s.id = ?',
].join('\n')

type Cell = string | number | Date | Record<string, string> | null

/** A JSON column: MariaDB stores it as text (a string here), MySQL as JSON (already parsed). */
function jsonObject(cell: Cell): Record<string, string> {
  return (typeof cell === 'string' ? JSON.parse(cell) : cell) as Record<string, string>
}

/** Maps one row (as an array, in `SESSION_LOOKUP_SQL`'s column order) to typed objects. */
export function mapSessionLookupRow(row: Cell[]): SessionLookupRow {
  const text = (index: number) => row[index] as string
  const optionalText = (index: number) => (row[index] as string | null) ?? null
  const date = (index: number) => row[index] as Date
  const optionalDate = (index: number) => (row[index] as Date | null) ?? null
  const session: Session = {
    id: text(0),
    secretHash: text(1),
    userId: text(2),
    createdAt: date(3),
    expiresAt: date(4),
    absoluteExpiresAt: date(5),
    lastSeenAt: date(6),
    ip: optionalText(7),
    userAgent: optionalText(8),
    authMethod: text(9) as AuthMethod,
    ssoConnectionId: optionalText(10),
    mfaSatisfiedAt: optionalDate(11),
    mfaFailedAttempts: Number(row[12]),
    reauthenticatedAt: date(13),
    reauthenticatedWith: text(29) as ReauthFactor,
    mfaMethod: optionalText(30) as Session['mfaMethod'],
    idpAuthnContext: optionalText(31),
    // TINYINT(1): mysql2 answers a number.
    passwordNeedsSecondFactor: Number(row[32]) === 1,
  }
  const user: User = {
    id: session.userId,
    organizationId: optionalText(14),
    email: text(15),
    emailVerifiedAt: optionalDate(16),
    name: text(17),
    passwordHash: optionalText(18),
    role: text(19) as Role,
    disabledAt: optionalDate(20),
    mfaEnabledAt: optionalDate(21),
    createdAt: date(22),
    updatedAt: date(23),
  }
  const organization: SessionOrganization | null =
    row[24] === null ? null : { id: text(24), name: text(25), slug: text(26), mfaPolicy: text(27) as MfaPolicy, mfaRequiredMinRole: optionalText(28) as Role | null }
  const ssoConnection = row[34] === null ? null : { groupRoleMap: jsonObject(row[33]!), defaultRole: text(34) }
  return { session, user, organization, ssoConnection }
}

/** The session row with its user and organization, or null when no session has this id. */
export async function lookupSession(pool: mysql.Pool, sessionId: string): Promise<SessionLookupRow | null> {
  const [rows] = await pool.execute<mysql.RowDataPacket[]>({ sql: SESSION_LOOKUP_SQL, rowsAsArray: true }, [sessionId])
  const row = rows[0] as Cell[] | undefined
  return row ? mapSessionLookupRow(row) : null
}
