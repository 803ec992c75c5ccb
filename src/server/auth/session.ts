/**
 * Server-only: server-side sessions after Lucia's design (ADR 001).
 *
 * Token = `<id>.<secret>`: the id is a lookup key (shown in the sessions list, safe to log); the
 * secret carries 160 random bits and only its SHA-256 is stored. Validation looks the row up by id
 * and compares the hash in constant time, so neither a leaked table nor timing reveals a token.
 */
import { sha256 } from '@oslojs/crypto/sha2'
import { constantTimeEqual } from '@oslojs/crypto/subtle'
import { decodeHex, encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding'
import { and, desc, eq, gt, lt, ne, or, sql, type SQL } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { sessions, type AuthMethod, type ReauthFactor, type Session, type User } from '../../../db/schema'
import { getSsoConnectionRoleCeiling } from '../../lib/member-permissions'
import { roleRank } from '../../lib/roles'
import { ID_PATTERN } from '../../lib/input-formats'
import type { Database, PooledDatabase } from '../db/client'
import { appError } from '../errors'
import { generateId } from '../ids'
import { lookupSession, type SessionLookupRow, type SessionOrganization } from './session-lookup'

const SESSION_SECRET_PATTERN = /^[a-z2-7]{32}$/
const SESSION_SECRET_BYTES = 20

export type { AuthMethod, ReauthFactor }

/** What a new session records about how and where it was created. */
export type SessionMetadata = {
  ip: string | null
  userAgent: string | null
  authMethod: AuthMethod
  ssoConnectionId?: string | null
  /** Set when this sign-in already satisfied MFA (or the IdP's MFA is trusted). */
  mfaSatisfiedAt?: Date | null
  /** What the sign-in proved (its first proof of presence). */
  reauthenticatedWith: ReauthFactor
  /** How MFA was satisfied (`idp` when the organization trusts the IdP's asserted MFA). */
  mfaMethod?: Session['mfaMethod']
  /** The IdP's asserted `amr`/`acr`, already bounded by the caller (≤ 255 characters). */
  idpAuthnContext?: string | null
  /**
   * A password sign-in of a user without a second factor, whose password meets only the policy for
   * a password beside one: the session must enroll a factor before anything else (ADR 018).
   */
  passwordNeedsSecondFactor?: boolean
  /**
   * The user has a second factor this sign-in has not proven yet: the session is an MFA challenge
   * and lives `mfa.challengeLifetimeSeconds`, not the idle timeout and absolute lifetime.
   */
  isSecondFactorOwed?: boolean
}

export type { SessionOrganization }

/** A validated session with its user (and organization) as read in the same query. */
export type ValidatedSession = {
  session: Session
  user: User
  organization: SessionOrganization | null
}

/** Hex SHA-256 of a token secret. */
export function hashSessionSecret(secret: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(secret)))
}

function generateSecret(): string {
  const bytes = new Uint8Array(SESSION_SECRET_BYTES)
  crypto.getRandomValues(bytes)
  return encodeBase32LowerCaseNoPadding(bytes)
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000)
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b
}

/** Splits a cookie value into id and secret; null for anything malformed (no DB query is made). */
export function parseSessionToken(token: string): { id: string; secret: string } | null {
  const separator = token.indexOf('.')
  if (separator < 0) return null
  const id = token.slice(0, separator)
  const secret = token.slice(separator + 1)
  if (!ID_PATTERN.test(id) || !SESSION_SECRET_PATTERN.test(secret)) return null
  return { id, secret }
}

/** Inserts a new session for the user and returns the token (shown once, to the cookie). */
export async function createSession(db: Database, userId: string, metadata: SessionMetadata, now: Date): Promise<{ token: string; session: Session }> {
  const { idleTimeoutSeconds, absoluteLifetimeSeconds } = appConfig.session
  const secret = generateSecret()
  // A challenge session (password proven, factor owed) is a one-factor foothold: whoever guessed or
  // phished the password holds it while waiting for a code to phish too. It gets minutes, not the
  // 7-day idle timeout, and dies on its own if the code never comes; `rotateSession` gives it the
  // normal lifetimes once the factor is proven.
  const absoluteExpiresAt = metadata.isSecondFactorOwed
    ? earliest(addSeconds(now, appConfig.mfa.challengeLifetimeSeconds), addSeconds(now, absoluteLifetimeSeconds))
    : addSeconds(now, absoluteLifetimeSeconds)
  const session: Session = {
    id: generateId(),
    secretHash: hashSessionSecret(secret),
    userId,
    createdAt: now,
    expiresAt: earliest(addSeconds(now, idleTimeoutSeconds), absoluteExpiresAt),
    absoluteExpiresAt,
    lastSeenAt: now,
    ip: metadata.ip?.slice(0, 45) ?? null,
    userAgent: metadata.userAgent?.slice(0, 512) ?? null,
    authMethod: metadata.authMethod,
    ssoConnectionId: metadata.ssoConnectionId ?? null,
    mfaSatisfiedAt: metadata.mfaSatisfiedAt ?? null,
    mfaMethod: metadata.mfaMethod ?? null,
    idpAuthnContext: metadata.idpAuthnContext?.slice(0, 255) ?? null,
    mfaFailedAttempts: 0,
    reauthenticatedAt: now,
    reauthenticatedWith: metadata.reauthenticatedWith,
    passwordNeedsSecondFactor: metadata.passwordNeedsSecondFactor ?? false,
  }
  await db.insert(sessions).values(session)
  return { token: `${session.id}.${secret}`, session }
}

/**
 * An SSO session whose user now holds a role above what its connection may vouch for (promoted
 * after signing in, or the connection's mapping lowered since): it stops working, as a new sign-in
 * through that connection would be refused. Otherwise an admin signed in as a member through an
 * IdP of their own keeps that session through the member's promotion to owner, and even steps up
 * with it (the connection's authority, ADR 014; found by review).
 */
function isAboveItsConnection(row: SessionLookupRow): boolean {
  return row.ssoConnection !== null && roleRank(row.user.role) > roleRank(getSsoConnectionRoleCeiling(row.ssoConnection))
}

/**
 * Validates a token: one indexed query (session ⋈ user ⟕ organization), a constant-time hash
 * compare, expiry checks, and sliding renewal written at most once per renewal interval.
 * Returns null for anything that is not a live session of an enabled user.
 */
export async function validateSessionToken(db: PooledDatabase, token: string, now: Date): Promise<ValidatedSession | null> {
  const parsed = parseSessionToken(token)
  if (!parsed) return null
  const row = await lookupSession(db.$client, parsed.id)
  if (!row) return null

  const presented = sha256(new TextEncoder().encode(parsed.secret))
  if (!constantTimeEqual(presented, decodeHex(row.session.secretHash))) return null

  const { session, user } = row
  if (!isSessionLive(session, now) || user.disabledAt || isAboveItsConnection(row)) {
    await db.delete(sessions).where(eq(sessions.id, session.id))
    return null
  }

  const { renewalIntervalSeconds, idleTimeoutSeconds } = appConfig.session
  if (now.getTime() - session.lastSeenAt.getTime() >= renewalIntervalSeconds * 1000) {
    const renewedExpiresAt = earliest(addSeconds(now, idleTimeoutSeconds), session.absoluteExpiresAt)
    await db.update(sessions).set({ expiresAt: renewedExpiresAt, lastSeenAt: now }).where(eq(sessions.id, session.id))
    session.expiresAt = renewedExpiresAt
    session.lastSeenAt = now
  }
  return { session, user, organization: row.organization }
}

/** What a rotation may change on a session; everything else is inherited. */
export type SessionChanges = Partial<Pick<Session, 'mfaSatisfiedAt' | 'mfaMethod' | 'reauthenticatedAt' | 'reauthenticatedWith' | 'ip' | 'userAgent' | 'passwordNeedsSecondFactor'>> & {
  /**
   * The second factor an MFA challenge session owed is proven: the session becomes a full one, its
   * absolute lifetime counted from the sign-in (`created_at`) like any session's. Only the MFA
   * challenge sets it; every other rotation inherits the absolute expiry.
   */
  isChallengeCompleted?: boolean
}

/** True while neither the idle expiry nor the absolute lifetime has passed. */
export function isSessionLive(session: Pick<Session, 'expiresAt' | 'absoluteExpiresAt'>, now: Date): boolean {
  return now < session.expiresAt && now < session.absoluteExpiresAt
}

/** The SQL twin of `isSessionLive`, for queries that count or list live sessions. */
export function liveSessionCondition(now: Date): SQL {
  return and(gt(sessions.expiresAt, now), gt(sessions.absoluteExpiresAt, now))!
}

/**
 * Replaces a session with a new token carrying the same history plus `changes` (MFA completion,
 * privilege change): the old token stops working at once (session fixation defence, OWASP ASVS 3.2.1).
 * The absolute lifetime is inherited, so rotation never extends it — except the one rotation that
 * turns a minutes-long MFA challenge into a full session (`isChallengeCompleted`).
 */
export async function rotateSession(
  db: Database,
  previous: Session,
  changes: SessionChanges,
  now: Date,
): Promise<{ token: string; session: Session }> {
  const { isChallengeCompleted, ...columnChanges } = changes
  const secret = generateSecret()
  const absoluteExpiresAt = isChallengeCompleted ? addSeconds(previous.createdAt, appConfig.session.absoluteLifetimeSeconds) : previous.absoluteExpiresAt
  const session: Session = {
    ...previous,
    ...columnChanges,
    id: generateId(),
    secretHash: hashSessionSecret(secret),
    lastSeenAt: now,
    expiresAt: earliest(addSeconds(now, appConfig.session.idleTimeoutSeconds), absoluteExpiresAt),
    absoluteExpiresAt,
    mfaFailedAttempts: 0,
  }
  await db.transaction(async (tx) => {
    const [deleted] = await tx.delete(sessions).where(eq(sessions.id, previous.id))
    // Revoked (or already rotated by a concurrent request) since this request read it: inserting
    // anyway would resurrect a revoked session under a new token. The transaction rolls back.
    if (deleted.affectedRows === 0) throw appError('UNAUTHENTICATED')
    await tx.insert(sessions).values(session)
  })
  return { token: `${session.id}.${secret}`, session }
}

/**
 * Takes one attempt from a pending session's MFA challenge budget: a single conditional UPDATE,
 * so concurrent guesses cannot overdraw it (a read-then-increment would let a burst of N parallel
 * requests all pass the check). False when the budget is spent or the session is gone. A success
 * rotates the session and the new row starts at 0, so what the column keeps counting is failures.
 */
export async function reserveMfaChallengeAttempt(db: Database, sessionId: string, maxAttempts: number): Promise<boolean> {
  const [result] = await db
    .update(sessions)
    .set({ mfaFailedAttempts: sql`${sessions.mfaFailedAttempts} + 1` })
    .where(and(eq(sessions.id, sessionId), lt(sessions.mfaFailedAttempts, maxAttempts)))
  return result.affectedRows === 1
}

/** Deletes one session; true when it existed. */
export async function invalidateSession(db: Database, sessionId: string): Promise<boolean> {
  const [result] = await db.delete(sessions).where(eq(sessions.id, sessionId))
  return result.affectedRows > 0
}

/** Deletes one of the user's sessions by id; scoped to the user so nobody revokes another's session. */
export async function invalidateUserSession(db: Database, userId: string, sessionId: string): Promise<boolean> {
  const [result] = await db.delete(sessions).where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
  return result.affectedRows > 0
}

/** Deletes all of a user's sessions, optionally keeping one (the caller's own); returns how many. */
export async function invalidateUserSessions(db: Database, userId: string, options: { exceptSessionId?: string } = {}): Promise<number> {
  const condition = options.exceptSessionId
    ? and(eq(sessions.userId, userId), ne(sessions.id, options.exceptSessionId))
    : eq(sessions.userId, userId)
  const [result] = await db.delete(sessions).where(condition)
  return result.affectedRows
}

/** The user's live sessions, newest first (no secrets: the hash column is not selected). */
export async function listUserSessions(db: Database, userId: string, now: Date) {
  const rows = await db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      absoluteExpiresAt: sessions.absoluteExpiresAt,
      ip: sessions.ip,
      userAgent: sessions.userAgent,
      authMethod: sessions.authMethod,
      mfaSatisfiedAt: sessions.mfaSatisfiedAt,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), liveSessionCondition(now)))
    .orderBy(desc(sessions.createdAt))
  return rows
}

/** Deletes every expired session (idle or absolute); run on a schedule by every instance. */
export async function purgeExpiredSessions(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(sessions).where(or(lt(sessions.expiresAt, now), lt(sessions.absoluteExpiresAt, now)))
  return result.affectedRows
}

/**
 * Deletes every session created through an SSO connection (the connection was disabled or
 * deleted, or its trust changed); returns how many. Users with other sessions keep those.
 */
export async function invalidateConnectionSessions(db: Database, connectionId: string): Promise<number> {
  const [result] = await db.delete(sessions).where(eq(sessions.ssoConnectionId, connectionId))
  return result.affectedRows
}
