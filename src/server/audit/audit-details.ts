/**
 * Server-only, pure: what may go into an audit event's `details`. The audit log is read by org
 * admins and kept forever, so a secret written there is a secret leaked (OWASP ASVS 7.1.1/7.1.2:
 * never log credentials, session tokens or other secrets). Key names are checked against a
 * denylist; in development and tests a hit throws so the developer's mistake fails a test, in
 * production the value is redacted instead (losing a security event would be worse).
 */
import { canonicalJson } from './audit-hash'

/** Upper bound on a details object's canonical JSON, so a caller cannot flood the log. */
export const MAX_AUDIT_DETAILS_CHARS = 4096

const REDACTED = '[redacted]'

/**
 * Words that, anywhere in a key name, mark a secret or something derived from one. `code` and
 * `hash` are broad on purpose (TOTP codes, recovery codes, reset codes, password hashes): name a
 * harmless value something else (`remaining`, `reason`, `kind`).
 */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'code', 'otp', 'totp', 'hotp',
  'hash', 'cookie', 'authorization', 'credential', 'jwt', 'bearer', 'salt', 'assertion',
])

/** Compounds whose parts are harmless alone (`key`, `private`) but secret together. */
const SECRET_COMPOUNDS = ['apikey', 'privatekey', 'secretkey', 'accesskey', 'signingkey', 'encryptionkey', 'clientsecret', 'samlresponse']

export class AuditDetailsError extends Error {
  override name = 'AuditDetailsError'
}

/** Splits `totpSecret`, `reset_token`, `X-Api-Key`, `OTPCode` into lower-case words. */
function splitKeyIntoWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
}

/** Whether a details key name looks like it holds a secret (see SECRET_WORDS). */
export function isSecretLookingKey(key: string): boolean {
  const words = splitKeyIntoWords(key)
  const isSecretWord = (word: string) =>
    SECRET_WORDS.has(word) || SECRET_WORDS.has(word.replace(/s$/, '')) || SECRET_WORDS.has(word.replace(/es$/, ''))
  if (words.some(isSecretWord)) return true
  const joined = words.join('')
  return SECRET_COMPOUNDS.some((compound) => joined.includes(compound))
}

/** Paths (`a.b[0].c`) of every secret-looking key, at any depth. */
export function findSecretLookingKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => findSecretLookingKeys(item, `${path}[${index}]`))
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, child]) => {
    const childPath = path ? `${path}.${key}` : key
    return isSecretLookingKey(key) ? [childPath] : findSecretLookingKeys(child, childPath)
  })
}

/** A copy with the value of every secret-looking key replaced by `[redacted]`. */
export function redactSecretLookingKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecretLookingKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key, isSecretLookingKey(key) ? REDACTED : redactSecretLookingKeys(child)]),
  )
}

/** Replaces lone UTF-16 surrogates, which utf8mb4 cannot store faithfully (the hash would then differ). */
export function toWellFormedText(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
}

/**
 * Details as they will read back from the JSON column: a JSON round trip (Dates become ISO
 * strings, `undefined` disappears, a BigInt or cycle throws) with well-formed strings. Hashing
 * this form is what lets `verifyAuditChain` recompute the same hash from the stored row.
 */
export function normalizeAuditDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (details === undefined) return {}
  const normalized: unknown = JSON.parse(JSON.stringify(details), (_key, value: unknown) =>
    typeof value === 'string' ? toWellFormedText(value) : value,
  )
  if (normalized === null || typeof normalized !== 'object' || Array.isArray(normalized)) {
    throw new AuditDetailsError('audit details must be a plain object')
  }
  return normalized as Record<string, unknown>
}

export type AuditDetailsMode = 'strict' | 'redact'

/**
 * Normalizes, checks and bounds details. `strict` (development, tests) throws on a secret-looking
 * key or oversize details; `redact` (production) keeps the event and drops the offending values,
 * reporting the key paths (never the values) through `warn`.
 */
export function prepareAuditDetails(
  details: Record<string, unknown> | undefined,
  mode: AuditDetailsMode,
  warn: (message: string) => void,
): Record<string, unknown> {
  let prepared = normalizeAuditDetails(details)
  const secretPaths = findSecretLookingKeys(prepared)
  if (secretPaths.length > 0) {
    const message = `audit details must not contain secrets; refused key(s): ${secretPaths.join(', ')}`
    if (mode === 'strict') throw new AuditDetailsError(message)
    warn(`${message} (values redacted)`)
    prepared = redactSecretLookingKeys(prepared) as Record<string, unknown>
  }
  const size = canonicalJson(prepared).length
  if (size > MAX_AUDIT_DETAILS_CHARS) {
    const message = `audit details are ${size} characters; the limit is ${MAX_AUDIT_DETAILS_CHARS}`
    if (mode === 'strict') throw new AuditDetailsError(message)
    warn(`${message} (details omitted)`)
    prepared = { omitted: 'details exceeded the size limit' }
  }
  return prepared
}
