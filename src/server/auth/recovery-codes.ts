/**
 * Server-only: MFA recovery codes. Each code is 10 characters of Crockford's base32 alphabet
 * (digits plus letters without I, L, O, U): 5 bits per character, 50 random bits per code, so
 * guessing online is hopeless under the rate limits (NIST SP 800-63B §5.1.2: look-up secrets need
 * ≥ 20 bits when throttled). Shown once as `xxxxx-xxxxx`; only an HMAC-SHA256 of the normalised
 * code is stored, keyed from APP_SECRET: 50 bits are within reach of an offline brute force of a
 * plain hash from a leaked table, not of a keyed one without the app's secret. A code is consumed
 * with a conditional UPDATE in `mfa.ts`.
 */
import { createHmac } from 'node:crypto'

export const RECOVERY_CODE_COUNT = 10
/** Crockford base32, lower-case: 32 symbols, no two of which are easily confused. */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const CODE_LENGTH = 10
const GROUP_LENGTH = 5

export type GeneratedRecoveryCode = {
  /** Display form (`xxxxx-xxxxx`), shown to the user once. */
  code: string
  /** What the database stores. */
  codeHash: string
}

/** A fresh set of distinct recovery codes, each with its hash under `key` to store. */
export function generateRecoveryCodes(key: Uint8Array, count = RECOVERY_CODE_COUNT): GeneratedRecoveryCode[] {
  const normalizedCodes = new Set<string>()
  // A duplicate within one set has probability ~2^-44; the loop makes "all distinct" a fact.
  while (normalizedCodes.size < count) normalizedCodes.add(generateNormalizedRecoveryCode())
  return [...normalizedCodes].map((normalized) => ({
    code: `${normalized.slice(0, GROUP_LENGTH)}-${normalized.slice(GROUP_LENGTH)}`,
    codeHash: hashRecoveryCode(normalized, key),
  }))
}

function generateNormalizedRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_LENGTH))
  // 256 is a multiple of 32, so masking to 5 bits keeps every symbol exactly equally likely.
  return Array.from(bytes, (byte) => RECOVERY_CODE_ALPHABET[byte & 31]).join('')
}

/**
 * The canonical form of what a user typed, or null when it cannot be a code. Case, dashes and
 * spaces are ignored, and the letters Crockford's alphabet leaves out are read as the digits they
 * resemble (O → 0, I/L → 1), so a code copied by hand from paper still works.
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 64) return null
  const code = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1')
  return code.length === CODE_LENGTH && [...code].every((char) => RECOVERY_CODE_ALPHABET.includes(char)) ? code : null
}

/** Hex HMAC-SHA256 of a normalised code under `key`: what the database stores and looks up. */
export function hashRecoveryCode(normalizedCode: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(normalizedCode, 'utf8').digest('hex')
}
