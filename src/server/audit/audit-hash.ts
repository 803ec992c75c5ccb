/**
 * Server-only, pure: the audit log's hash chain. Each event's hash is an HMAC-SHA256 (keyed from
 * APP_SECRET) over a canonical serialization of the previous event's hash and this event's
 * content, so editing, deleting, inserting or reordering a row changes a hash that a later row (or
 * the row itself) commits to — and someone with write access to the database but not the app's
 * secret cannot recompute the chain after an edit (an unkeyed hash could simply be recomputed).
 *
 * The row id is deliberately not hashed: ids come from AUTO_INCREMENT after the hash is computed,
 * and a gap left by a rolled-back insert must not look like tampering. Order is carried by
 * `previous_hash` instead.
 */
import { createHmac } from 'node:crypto'

/** `previous_hash` of the first event: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64)

/**
 * Tags the serialization format, so a future change of fields or encoding can be introduced
 * without old rows verifying under the wrong rules.
 */
const HASH_FORMAT = 'gatehouse.audit.v1'

/** The hashed content of an event; everything a row stores except `id` and `hash`. */
export type AuditHashInput = {
  previousHash: string
  createdAt: Date
  type: string
  organizationId: string | null
  actorUserId: string | null
  subjectUserId: string | null
  ip: string | null
  userAgent: string | null
  details: Record<string, unknown>
}

/**
 * Canonical JSON after RFC 8785 (JCS): object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript's JSON.stringify writes them. The database may hand the JSON
 * back re-ordered or re-spaced (MySQL's JSON type normalizes it); the canonical form does not care.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number')
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
      const entries = Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      return `{${entries.join(',')}}`
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`)
  }
}

/**
 * The exact bytes that are hashed: a JSON array with an explicit, fixed field order, the
 * timestamp as an ISO 8601 UTC string with milliseconds (what `datetime(3)` stores).
 */
export function serializeAuditEventForHash(input: AuditHashInput): string {
  return canonicalJson([
    HASH_FORMAT,
    input.previousHash,
    input.createdAt.toISOString(),
    input.type,
    input.organizationId,
    input.actorUserId,
    input.subjectUserId,
    input.ip,
    input.userAgent,
    input.details,
  ])
}

/** HMAC-SHA256 under `key` (lower-case hex) of the event's canonical serialization, chained to `previousHash`. */
export function computeAuditEventHash(input: AuditHashInput, key: Uint8Array): string {
  return createHmac('sha256', key).update(serializeAuditEventForHash(input), 'utf8').digest('hex')
}
