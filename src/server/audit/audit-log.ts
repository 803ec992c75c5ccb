/**
 * Server-only: the append-only, hash-chained audit log of security events (SPEC §7; ADR 007).
 * Rows are only ever inserted; `verifyAuditChain` (`gatehouse audit:verify`) recomputes every hash
 * and link, so an edited, deleted, inserted or reordered row is found.
 *
 * Two appenders that read the same chain head would fork the chain, so appends are serialized
 * with `GET_LOCK` held on one pooled connection: lock, read the head, insert (autocommitted before
 * the release, so the next holder reads the newest head), release. Hence `recordAuditEvent` takes
 * the pool-backed database, never a transaction, and runs after the change it records committed.
 * A change whose event must commit with it, or not at all, runs in `runAuditedTransaction`.
 */
import { and, asc, desc, eq, gt, gte, lt, or, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/mysql2'
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise'
import * as schema from '../../../db/schema'
import { auditEvents } from '../../../db/schema'
import { now } from '../clock'
import { isDatabaseUnavailableError } from '../db/availability'
import type { Database } from '../db/client'
import { prepareAuditDetails, toWellFormedText } from './audit-details'
import { isAuditEventType, type AuditEventType } from './audit-event-types'
import { getSecretBoxKeyRing } from '../crypto/secret-box'
import { computeAuditEventHash, GENESIS_HASH, type AuditHashInput } from './audit-hash'

/** HKDF purpose of the chain's HMAC key (its own key, not shared with any other use of APP_SECRET). */
export const AUDIT_CHAIN_KEY_PURPOSE = 'audit-chain-hmac'

/** The chain keys, current first; previous secrets keep events written before a rotation verifiable. */
function auditChainKeys(): Uint8Array[] {
  const ring = getSecretBoxKeyRing(AUDIT_CHAIN_KEY_PURPOSE)
  return [ring.current.key, ...ring.previous.map((key) => key.key)]
}

/** True when the row's hash is the HMAC of its content under any configured key. */
function hasValidHash(row: AuditHashInput & { hash: string }, keys: Uint8Array[]): boolean {
  return keys.some((key) => computeAuditEventHash(row, key) === row.hash)
}

export { AUDIT_EVENT_TYPES, type AuditEventType } from './audit-event-types'
export { AuditDetailsError } from './audit-details'

/** How long an append waits for the chain lock before failing (appends hold it for ~2 round trips). */
const CHAIN_LOCK_TIMEOUT_SECONDS = 10
/** GET_LOCK names are limited to 64 characters: a fixed prefix plus the SHA-1 hex of the database name. */
const CHAIN_LOCK_NAME_SQL = "CONCAT('gatehouse_audit_', SHA1(DATABASE()))"
/** Rows per query while verifying: bounded memory for any chain length. */
const VERIFY_PAGE_SIZE = 1000
const MAX_LIST_LIMIT = 100
const DEFAULT_LIST_LIMIT = 50
/** Column sizes from db/schema/audit.ts; longer values would make the insert fail and lose the event. */
const MAX_IP_CHARS = 45
const MAX_USER_AGENT_CHARS = 512
const MAX_ID_CHARS = 26

export type AuditEventInput = {
  type: AuditEventType
  organizationId?: string | null
  actorUserId?: string | null
  subjectUserId?: string | null
  ip?: string | null
  userAgent?: string | null
  /** Non-secret context; secret-looking keys are refused (see audit-details.ts). */
  details?: Record<string, unknown>
}

export type RecordedAuditEvent = { id: number; hash: string }

/** Cuts by code points (never inside a surrogate pair) and replaces lone surrogates. */
function toStorableText(value: string | null | undefined, maxChars: number): string | null {
  if (value === null || value === undefined) return null
  const codePoints = Array.from(toWellFormedText(value))
  return codePoints.length > maxChars ? codePoints.slice(0, maxChars).join('') : codePoints.join('')
}

/** The mysql2 pool under a drizzle database; a transaction has none and is refused. */
function requirePool(db: Database): Pool {
  const client = (db as { $client?: unknown }).$client as Pool | undefined
  if (!client || typeof client.getConnection !== 'function') {
    throw new Error('recordAuditEvent needs the pool-backed database (getDb()), not a transaction or a single connection')
  }
  return client
}

/** Asks for the server-wide chain lock on `connection`; false when it was not granted within the timeout. */
async function tryTakeChainLock(connection: PoolConnection): Promise<boolean> {
  const [rows] = await connection.query<RowDataPacket[]>(`SELECT GET_LOCK(${CHAIN_LOCK_NAME_SQL}, ?) AS acquired`, [CHAIN_LOCK_TIMEOUT_SECONDS])
  return Number(rows[0]?.acquired) === 1
}

function chainLockTimeoutError(): Error {
  return new Error(`audit log: could not take the chain lock within ${CHAIN_LOCK_TIMEOUT_SECONDS}s`)
}

/** Releases the chain lock (a no-op when not held) and returns the connection to the pool. */
async function releaseChainLockAndConnection(connection: PoolConnection): Promise<void> {
  try {
    await connection.query(`SELECT RELEASE_LOCK(${CHAIN_LOCK_NAME_SQL})`)
    connection.release()
  } catch {
    // Closing the connection is what frees the lock now; a pooled connection must never keep it.
    connection.destroy()
  }
}

/** Runs `work` on one pooled connection while it holds the server-wide chain lock. */
async function withAuditChainLock<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection()
  let isAcquired: boolean
  try {
    isAcquired = await tryTakeChainLock(connection)
  } catch (error) {
    connection.destroy()
    throw error
  }
  if (!isAcquired) {
    connection.release()
    throw chainLockTimeoutError()
  }
  try {
    return await work(connection)
  } finally {
    await releaseChainLockAndConnection(connection)
  }
}

/** Checks the event (type, secret-looking detail keys, id lengths) and shapes the row's content. */
function toAuditContent(event: AuditEventInput) {
  if (!isAuditEventType(event.type)) throw new Error(`unknown audit event type "${String(event.type)}"`)
  const details = prepareAuditDetails(
    event.details,
    process.env.NODE_ENV === 'production' ? 'redact' : 'strict',
    (message) => console.error(`[gatehouse] audit ${event.type}: ${message}`),
  )
  const content = {
    type: event.type,
    organizationId: event.organizationId ?? null,
    actorUserId: event.actorUserId ?? null,
    subjectUserId: event.subjectUserId ?? null,
    ip: toStorableText(event.ip, MAX_IP_CHARS),
    userAgent: toStorableText(event.userAgent, MAX_USER_AGENT_CHARS),
    details,
  }
  for (const id of [content.organizationId, content.actorUserId, content.subjectUserId]) {
    // A non-strict sql_mode would silently cut an over-long id and store a row its hash does not match.
    if (id !== null && id.length > MAX_ID_CHARS) throw new Error(`audit event ids are at most ${MAX_ID_CHARS} characters`)
  }
  return content
}

/** Reads the chain head and inserts the event after it; only ever called by the holder of the chain lock. */
async function appendAfterHead(lockedDb: Pick<Database, 'select' | 'insert'>, content: ReturnType<typeof toAuditContent>): Promise<RecordedAuditEvent> {
  const [head] = await lockedDb.select({ hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.id)).limit(1)
  const previousHash = head?.hash ?? GENESIS_HASH
  // Taken under the lock, so timestamps follow chain order on one clock (instances may differ slightly).
  const createdAt = now()
  const hash = computeAuditEventHash({ ...content, previousHash, createdAt }, auditChainKeys()[0]!)
  const [inserted] = await lockedDb.insert(auditEvents).values({ ...content, createdAt, previousHash, hash }).$returningId()
  return { id: inserted!.id, hash }
}

/**
 * Appends one event to the chain and returns its id and hash. Throws in development and tests
 * when `details` has a secret-looking key (nothing is written); production redacts instead.
 */
export async function recordAuditEvent(db: Database, event: AuditEventInput): Promise<RecordedAuditEvent> {
  const content = toAuditContent(event)
  const pool = requirePool(db)
  return withAuditChainLock(pool, (connection) => appendAfterHead(drizzle(connection), content))
}

/** A transaction of the schema-aware database, as `db.transaction` hands it to its callback. */
export type AuditedTransaction = Parameters<Parameters<Database['transaction']>[0]>[0]

/**
 * Runs `change` in one transaction and appends the event it returns in that same transaction: the
 * change and its audit row commit together or not at all. Neither order of two transactions gives
 * that — an event appended first stays when the change rolls back (a record of something that never
 * happened), one appended after the commit is lost if the process dies in between (a change nobody
 * can see in the log).
 *
 * How it keeps the chain whole (ADR 007): the transaction runs on a connection of its own; the
 * chain lock is taken on that connection only after `change` returns, the head is read and the
 * event inserted, the transaction commits, and only then is the lock released, so the next holder
 * reads this event as the head. READ COMMITTED, because a REPEATABLE READ snapshot taken by the
 * change's first read would hide events appended since and fork the chain. The lock is taken last
 * so it is held for the append and the commit only, and so no deadlock forms: once holding it, a
 * transaction only reads the head and inserts into audit_events (no foreign keys), which no
 * transaction waiting for the lock has touched.
 *
 * Throwing from `change` rolls everything back and rethrows. Use it for changes that are rare
 * and short (SSO linking and provisioning): every append of the cluster waits for the commit.
 */
export async function runAuditedTransaction<T>(
  db: Database,
  change: (tx: AuditedTransaction) => Promise<{ result: T; event: AuditEventInput }>,
): Promise<T> {
  const pool = requirePool(db)
  const connection = await pool.getConnection()
  let isLockRequested = false
  let isConnectionBroken = false
  try {
    return await drizzle(connection, { schema, mode: 'default' }).transaction(
      async (tx) => {
        const { result, event } = await change(tx)
        const content = toAuditContent(event)
        isLockRequested = true
        if (!(await tryTakeChainLock(connection))) throw chainLockTimeoutError()
        await appendAfterHead(tx, content)
        return result
      },
      { isolationLevel: 'read committed' },
    )
  } catch (error) {
    // A connection that failed mid-transaction (or mid-ROLLBACK) is in an unknown state: closing
    // it aborts whatever is open and frees the lock.
    isConnectionBroken = isDatabaseUnavailableError(error)
    throw error
  } finally {
    if (isConnectionBroken) connection.destroy()
    else if (isLockRequested) await releaseChainLockAndConnection(connection)
    else connection.release()
  }
}

export type AuditChainVerification =
  | { ok: true; count: number; headHash: string }
  | { ok: false; brokenAtId: number; reason: string }

/**
 * Walks the whole chain in id order, a page at a time, recomputing each hash and checking each
 * link. The first inconsistency is reported. Deleting the newest events cannot be seen from the
 * chain alone: compare `headHash` with a copy kept elsewhere for that.
 */
export async function verifyAuditChain(db: Database, options: { pageSize?: number } = {}): Promise<AuditChainVerification> {
  const pageSize = options.pageSize ?? VERIFY_PAGE_SIZE
  const keys = auditChainKeys()
  let expectedPreviousHash = GENESIS_HASH
  let previousId: number | null = null
  let count = 0
  for (;;) {
    const page = await db
      .select()
      .from(auditEvents)
      .where(gt(auditEvents.id, previousId ?? 0))
      .orderBy(asc(auditEvents.id))
      .limit(pageSize)
    for (const row of page) {
      if (!hasValidHash(row, keys)) {
        return { ok: false, brokenAtId: row.id, reason: "hash does not match the event's content (the event was altered, or APP_SECRET changed without APP_SECRET_PREVIOUS)" }
      }
      if (row.previousHash !== expectedPreviousHash) {
        const reason =
          previousId === null
            ? 'the first event does not link to the genesis hash (earlier events were deleted)'
            : `previous_hash does not match the hash of event ${previousId} (an event was deleted, inserted or reordered)`
        return { ok: false, brokenAtId: row.id, reason }
      }
      expectedPreviousHash = row.hash
      previousId = row.id
      count += 1
    }
    if (page.length < pageSize) return { ok: true, count, headHash: expectedPreviousHash }
  }
}

export type AuditEventView = {
  id: number
  type: string
  actorUserId: string | null
  subjectUserId: string | null
  ip: string | null
  userAgent: string | null
  details: Record<string, unknown>
  createdAt: Date
}

/**
 * One page of an organization's events, newest first, for the admin console. Pass the returned
 * `nextBeforeId` as `beforeId` for the next page (keyset pagination on `audit_events_organization_idx`:
 * stable while new events arrive, unlike OFFSET). The caller scopes `organizationId` to the admin's own org.
 */
export async function listAuditEvents(
  db: Database,
  query: {
    organizationId: string
    limit?: number
    beforeId?: number | null
    /** Filters: an exact event type, a person as actor or subject, and a time range (from inclusive, to exclusive). */
    type?: string | null
    userId?: string | null
    from?: Date | null
    to?: Date | null
  },
): Promise<{ events: AuditEventView[]; nextBeforeId: number | null }> {
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIST_LIMIT), 1), MAX_LIST_LIMIT)
  const conditions: SQL[] = [eq(auditEvents.organizationId, query.organizationId)]
  if (query.beforeId != null) conditions.push(lt(auditEvents.id, query.beforeId))
  if (query.type) conditions.push(eq(auditEvents.type, query.type))
  if (query.userId) conditions.push(or(eq(auditEvents.actorUserId, query.userId), eq(auditEvents.subjectUserId, query.userId))!)
  if (query.from) conditions.push(gte(auditEvents.createdAt, query.from))
  if (query.to) conditions.push(lt(auditEvents.createdAt, query.to))
  const rows = await db
    .select({
      id: auditEvents.id,
      type: auditEvents.type,
      actorUserId: auditEvents.actorUserId,
      subjectUserId: auditEvents.subjectUserId,
      ip: auditEvents.ip,
      userAgent: auditEvents.userAgent,
      details: auditEvents.details,
      createdAt: auditEvents.createdAt,
    })
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.id))
    // One extra row tells whether another page exists without a COUNT.
    .limit(limit + 1)
  const events = rows.slice(0, limit)
  return { events, nextBeforeId: rows.length > limit ? events[events.length - 1]!.id : null }
}
