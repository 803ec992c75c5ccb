/**
 * Server-only: MFA recovery codes, stored per OWASP ASVS 5.0 6.5.2 ("at least 112 bits of entropy
 * with a fast keyed hash, or a salted password hash per code"): each code is 24 characters of
 * Crockford's base32 alphabet (digits plus letters without I, L, O, U), 5 bits per character,
 * 120 random bits, shown once as six groups of four (`xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`) so it stays
 * easy to read and type. Only an HMAC-SHA256 of the normalised code is stored, keyed from
 * APP_SECRET: 120 bits are out of reach of an offline search even if the key leaks with the table.
 *
 * Earlier sets had 10 characters (50 bits, `xxxxx-xxxxx`) under the same keyed hash. They keep
 * working until the user regenerates (ADR 010): the normaliser accepts both lengths and the
 * stored hash is computed the same way. A code is consumed with a conditional UPDATE in `mfa.ts`.
 */
import { createHmac } from 'node:crypto'

export const RECOVERY_CODE_COUNT = 10
/** Crockford base32, lower-case: 32 symbols, no two of which are easily confused. */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
/** 24 × log2(32) = 120 bits ≥ ASVS 6.5.2's 112. */
export const RECOVERY_CODE_LENGTH = 24
const GROUP_LENGTH = 4
/** The length of codes issued before ADR 010 (50 bits), still accepted until regenerated. */
export const LEGACY_RECOVERY_CODE_LENGTH = 10

export type GeneratedRecoveryCode = {
  /** Display form (`xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`), shown to the user once. */
  code: string
  /** What the database stores. */
  codeHash: string
}

/** A fresh set of distinct recovery codes, each with its hash under `key` to store. */
export function generateRecoveryCodes(key: Uint8Array, count = RECOVERY_CODE_COUNT): GeneratedRecoveryCode[] {
  const normalizedCodes = new Set<string>()
  // A duplicate within one set has probability ~2^-114; the loop makes "all distinct" a fact.
  while (normalizedCodes.size < count) normalizedCodes.add(generateNormalizedRecoveryCode())
  return [...normalizedCodes].map((normalized) => ({
    code: formatRecoveryCode(normalized),
    codeHash: hashRecoveryCode(normalized, key),
  }))
}

/** Groups of four joined by dashes: `abcd-efgh-…`. */
function formatRecoveryCode(normalized: string): string {
  return normalized.match(new RegExp(`.{1,${GROUP_LENGTH}}`, 'g'))!.join('-')
}

function generateNormalizedRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(RECOVERY_CODE_LENGTH))
  // 256 is a multiple of 32, so masking to 5 bits keeps every symbol exactly equally likely.
  return Array.from(bytes, (byte) => RECOVERY_CODE_ALPHABET[byte & 31]).join('')
}

/**
 * The canonical form of what a user typed, or null when it cannot be a code. Case, dashes and
 * spaces are ignored, and the letters Crockford's alphabet leaves out are read as the digits they
 * resemble (O → 0, I/L → 1), so a code copied by hand from paper still works. Both the current
 * (24-character) and the legacy (10-character) lengths are accepted.
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 64) return null
  const code = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1')
  const hasKnownLength = code.length === RECOVERY_CODE_LENGTH || code.length === LEGACY_RECOVERY_CODE_LENGTH
  return hasKnownLength && [...code].every((char) => RECOVERY_CODE_ALPHABET.includes(char)) ? code : null
}

/** Hex HMAC-SHA256 of a normalised code under `key`: what the database stores and looks up. */
export function hashRecoveryCode(normalizedCode: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(normalizedCode, 'utf8').digest('hex')
}
