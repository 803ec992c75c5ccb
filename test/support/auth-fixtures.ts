/**
 * Fixtures for auth tests, epic-stack style: users are inserted directly and a "signed-in"
 * caller gets a session row written by `createSession` (no sign-in round trip, no rate-limit
 * budget spent, no argon2 beyond one hash per distinct password per worker).
 */
import { randomBytes } from 'node:crypto'
import { eq, getTableName, is } from 'drizzle-orm'
import { MySqlTable } from 'drizzle-orm/mysql-core'
import type { RowDataPacket } from 'mysql2/promise'
import * as schema from '../../db/schema'
import { organizations, sessions, users, type Organization, type User } from '../../db/schema'
import appConfig from '../../app.config'
import { hashPassword } from '../../src/server/auth/password'
import { createSession, type SessionMetadata } from '../../src/server/auth/session'
import { getKnownDeviceCookieName } from '../../src/server/auth/known-devices'
import { getSessionCookieName } from '../../src/server/auth/session-cookie'
import { now } from '../../src/server/clock'
import { getDatabase, getDb, type Database } from '../../src/server/db/client'
import { getServerEnv } from '../../src/server/env'
import { generateId } from '../../src/server/ids'
import type { Role } from '../../src/lib/roles'
import { callerWithResponse, type CallerOptions } from './caller'

/** Long enough for the password-only minimum (15) and on no blocklist. */
export const TEST_PASSWORD = 'correct horse battery staple 42'

const hashByPassword = new Map<string, Promise<string>>()

/** argon2id once per distinct password per worker: fixtures stay cheap, hashes stay real. */
function cachedPasswordHash(password: string): Promise<string> {
  let hash = hashByPassword.get(password)
  if (!hash) {
    hash = hashPassword(password)
    hashByPassword.set(password, hash)
  }
  return hash
}

let ipCounter = 0

/** A fresh client address per call (TEST-NET-2, RFC 5737), so tests never share a rate-limit bucket by accident. */
export function nextTestIp(): string {
  ipCounter += 1
  return `198.51.${100 + Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`
}

/** A unique, already-normalised email. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.test`
}

/** Inserts an organization (MFA policy optional unless given), in this worker's database unless `db` names another. */
export async function createTestOrganization(
  options: { name?: string; mfaPolicy?: 'optional' | 'required' | 'required_for_role'; mfaRequiredMinRole?: Role; ssoMfaMode?: Organization['ssoMfaMode']; db?: Database } = {},
): Promise<Organization> {
  const slug = `org-${randomBytes(5).toString('hex')}`
  const organization: Organization = {
    id: generateId(),
    name: options.name ?? slug,
    slug,
    mfaPolicy: options.mfaPolicy ?? 'optional',
    mfaRequiredMinRole: options.mfaRequiredMinRole ?? null,
    ssoEnforcedAt: null,
    breakGlassUserId: null,
    ssoMfaMode: options.ssoMfaMode ?? 'require_gatehouse_mfa',
    createdAt: now(),
  }
  await (options.db ?? getDb()).insert(organizations).values(organization)
  return organization
}

export type TestUserOptions = {
  email?: string
  password?: string
  name?: string
  role?: Role
  organizationId?: string | null
  /** Sets `users.mfa_enabled_at` (the user owns a confirmed factor). */
  isMfaEnabled?: boolean
  isDisabled?: boolean
}

/** Inserts a user with a real argon2id hash; returns the row and the plain password. */
export async function createTestUser(options: TestUserOptions = {}): Promise<{ user: User; password: string }> {
  const password = options.password ?? TEST_PASSWORD
  const at = now()
  const user: User = {
    id: generateId(),
    organizationId: options.organizationId ?? null,
    email: options.email ?? uniqueEmail(),
    emailVerifiedAt: at,
    name: options.name ?? 'Test User',
    passwordHash: await cachedPasswordHash(password),
    role: options.role ?? 'member',
    disabledAt: options.isDisabled ? at : null,
    mfaEnabledAt: options.isMfaEnabled ? at : null,
    createdAt: at,
    updatedAt: at,
  }
  await getDb().insert(users).values(user)
  return { user, password }
}

/** `Cookie` header value carrying a session token. */
export function sessionCookieHeader(token: string): string {
  return `${getSessionCookieName(getServerEnv().appUrl)}=${token}`
}

/** A caller presenting `token` as its session cookie (from a fresh client address unless given). */
export function callerWithToken(token: string, options: Omit<CallerOptions, 'cookie'> = {}) {
  return callerWithResponse({ ...options, ip: options.ip ?? nextTestIp(), cookie: sessionCookieHeader(token) })
}

export type SignedInCallerOptions = Omit<CallerOptions, 'cookie'> & {
  /** Stamps `mfa_satisfied_at`; leave false for an "MFA pending" session of an MFA user. */
  isMfaSatisfied?: boolean
  /** Re-authenticated longer ago than `session.reauthWindowSeconds`: sensitive procedures answer REAUTH_REQUIRED. */
  isReauthStale?: boolean
  metadata?: Partial<SessionMetadata>
}

/** Inserts a session row for the user (as a completed sign-in would) and returns a caller holding its cookie. */
export async function signedInCaller(user: Pick<User, 'id'>, options: SignedInCallerOptions = {}) {
  const at = now()
  const { token, session } = await createSession(
    getDb(),
    user.id,
    {
      ip: options.ip ?? null,
      userAgent: 'vitest',
      authMethod: 'password',
      mfaSatisfiedAt: options.isMfaSatisfied ? at : null,
      // As the sign-in that created it: the MFA challenge's code is its latest proof.
      reauthenticatedWith: options.isMfaSatisfied ? 'totp' : 'password',
      ...options.metadata,
    },
    at,
  )
  if (options.isReauthStale) {
    const staleAt = new Date(at.getTime() - (appConfig.session.reauthWindowSeconds + 60) * 1000)
    await getDb().update(sessions).set({ reauthenticatedAt: staleAt }).where(eq(sessions.id, session.id))
    session.reauthenticatedAt = staleAt
  }
  // A signed-in browser: it keeps the token the server rotates to (re-authentication, MFA changes).
  const { caller, responseHeaders } = callerWithToken(token, { ip: options.ip, headers: options.headers, followCookies: true })
  return { caller, responseHeaders, token, session, sessionId: session.id }
}

export type ParsedSetCookie = { name: string; value: string; attributes: Map<string, string | true> }

/** Parses every `Set-Cookie` header (attribute names lower-cased). */
export function parseSetCookies(headers: Headers): ParsedSetCookie[] {
  return headers.getSetCookie().map((line) => {
    const [pair, ...rest] = line.split(';')
    const separator = pair!.indexOf('=')
    const attributes = new Map<string, string | true>()
    for (const part of rest) {
      const [key, ...value] = part.trim().split('=')
      attributes.set(key!.toLowerCase(), value.length ? value.join('=') : true)
    }
    return { name: pair!.slice(0, separator).trim(), value: decodeURIComponent(pair!.slice(separator + 1).trim()), attributes }
  })
}

/** The last session cookie the response set, or null. */
export function getSetSessionCookie(headers: Headers): ParsedSetCookie | null {
  const name = getSessionCookieName(getServerEnv().appUrl)
  return parseSetCookies(headers).filter((cookie) => cookie.name === name).at(-1) ?? null
}

/** The session token the response handed out; throws when none was set. */
export function requireIssuedToken(headers: Headers): string {
  const cookie = getSetSessionCookie(headers)
  if (!cookie?.value) throw new Error(`no session cookie was set; set-cookie: ${JSON.stringify(headers.getSetCookie())}`)
  return cookie.value
}

/**
 * `name=value` of the known-device cookie the response set (ADR 013): what the browser presents
 * on its next sign-in to prove it completed one before. Throws when none was set.
 */
export function requireKnownDeviceCookie(headers: Headers): string {
  const name = getKnownDeviceCookieName(getServerEnv().appUrl)
  const cookie = parseSetCookies(headers).filter((entry) => entry.name === name).at(-1)
  if (!cookie?.value) throw new Error(`no known-device cookie was set; set-cookie: ${JSON.stringify(headers.getSetCookie())}`)
  return `${name}=${cookie.value}`
}

/** Plain SQL against the worker's database (assertions read rows the way an attacker with a dump would). */
export async function sql<T extends RowDataPacket[] = RowDataPacket[]>(statement: string, params: unknown[] = []): Promise<T> {
  const [rows] = await getDatabase().pool.query<T>(statement, params)
  return rows
}

const COUNTED_TABLES = ['users', 'sessions', 'audit_events', 'mail_outbox', 'one_time_tokens'] as const

export type RowCounts = Record<(typeof COUNTED_TABLES)[number], number>

/** Row counts of the tables a refused request must not touch. */
export async function countRows(): Promise<RowCounts> {
  const select = COUNTED_TABLES.map((table) => `(SELECT COUNT(*) FROM \`${table}\`) AS \`${table}\``).join(', ')
  const [row] = await sql(`SELECT ${select}`)
  return Object.fromEntries(COUNTED_TABLES.map((table) => [table, Number(row![table])])) as RowCounts
}

/** Every table of `db/schema`: a table added later is fingerprinted without anyone remembering to list it. */
const GUARDED_TABLES = Object.values(schema)
  .filter((value) => is(value, MySqlTable))
  .map((table) => getTableName(table))
  .sort()

/**
 * A fingerprint of every table of the schema (`CHECKSUM TABLE`, on MySQL and MariaDB
 * alike): equal before and after means nothing was inserted, updated or deleted.
 */
export async function tableChecksums(): Promise<Record<string, string>> {
  const rows = await sql(`CHECKSUM TABLE ${GUARDED_TABLES.map((table) => `\`${table}\``).join(', ')}`)
  return Object.fromEntries(rows.map((row) => [String(row.Table).split('.').pop(), String(row.Checksum)]))
}

/** The user row as stored now. */
export async function readUser(userId: string): Promise<User | null> {
  const [row] = await getDb().select().from(users).where(eq(users.id, userId)).limit(1)
  return row ?? null
}
