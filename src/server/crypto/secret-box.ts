/**
 * Server-only: authenticated encryption of small secrets at rest (TOTP secrets, SSO client
 * secrets). A database dump alone must not reveal them (OWASP ASVS 6.2.1 / 6.4.1), so they are
 * sealed with AES-256-GCM (NIST SP 800-38D) under a key that lives only in the environment.
 *
 * - Keys: HKDF-SHA256 (RFC 5869) from APP_SECRET with a purpose label in `info`, so every use of
 *   the app secret gets an independent key and a leak of one derived key exposes no other.
 * - Rotation: each derived key has a short public id stored next to the ciphertext. Encryption uses
 *   the current key; decryption picks the key by id among the current one and those derived from
 *   `APP_SECRET_PREVIOUS` (comma-separated old secrets), so an operator rotates without a flag day.
 * - Binding: callers pass associated data (e.g. the owning user id). GCM authenticates it, so a
 *   ciphertext copied into another row (cut-and-paste / row-swap attack) no longer decrypts.
 *
 * Format: base64url(iv(12) ‖ ciphertext ‖ tag(16)); a fresh random 96-bit IV per message
 * (SP 800-38D §8.2.2: random IVs are safe far beyond the number of secrets this app seals).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { getServerEnv, parseAppSecret, type ServerEnv } from '../env'

const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const KEY_ID_HEX_CHARS = 8
/** Bumping the version in the HKDF label changes every derived key (a deliberate flag day). */
const HKDF_INFO_PREFIX = 'gatehouse/secret-box/v1/'

export type SecretBoxKey = { id: string; key: Uint8Array }

/** The key that seals new secrets, plus older keys that may still open existing ones. */
export type SecretBoxKeyRing = { current: SecretBoxKey; previous: SecretBoxKey[] }

export type SealedSecret = { keyId: string; ciphertext: string }

/** Why a sealed secret did not open; none of them is the user's fault, all mean "do not trust it". */
export type SecretBoxFailure = 'unknown-key' | 'malformed' | 'authentication-failed'

export class SecretBoxError extends Error {
  override name = 'SecretBoxError'
  constructor(
    readonly reason: SecretBoxFailure,
    message: string,
  ) {
    super(message)
  }
}

/** Derives the AES-256 key for one purpose from an app secret, with its public key id. */
export function deriveSecretBoxKey(appSecret: Uint8Array, purpose: string): SecretBoxKey {
  if (!/^[a-z0-9-]+$/.test(purpose)) throw new Error(`secret-box purpose must be kebab-case, got ${JSON.stringify(purpose)}`)
  const key = new Uint8Array(hkdfSync('sha256', appSecret, new Uint8Array(0), `${HKDF_INFO_PREFIX}${purpose}`, KEY_BYTES))
  // The id is a hash of the derived key: stable across restarts and instances, and useless to an
  // attacker (a 256-bit key cannot be recovered from its SHA-256).
  const id = createHash('sha256').update(key).digest('hex').slice(0, KEY_ID_HEX_CHARS)
  return { id, key }
}

/** Builds a key ring for one purpose from the current app secret and any previous ones. */
export function createSecretBoxKeyRing(secrets: { current: Uint8Array; previous: readonly Uint8Array[] }, purpose: string): SecretBoxKeyRing {
  const current = deriveSecretBoxKey(secrets.current, purpose)
  const previous: SecretBoxKey[] = []
  const seenIds = new Set([current.id])
  for (const secret of secrets.previous) {
    const key = deriveSecretBoxKey(secret, purpose)
    // The same secret listed twice (or kept as "previous" after a no-op rotation) is harmless.
    if (seenIds.has(key.id)) continue
    seenIds.add(key.id)
    previous.push(key)
  }
  return { current, previous }
}

/** Parses `APP_SECRET_PREVIOUS`: comma-separated secrets, each held to APP_SECRET's own rules. */
export function parsePreviousAppSecrets(value: string | undefined): Uint8Array[] {
  if (!value) return []
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => parseAppSecret(part))
}

let cachedRings: { env: ServerEnv; previousRaw: string | undefined; byPurpose: Map<string, SecretBoxKeyRing> } | undefined

/** The key ring for `purpose` from the process environment (APP_SECRET + APP_SECRET_PREVIOUS). */
export function getSecretBoxKeyRing(purpose: string): SecretBoxKeyRing {
  const env = getServerEnv()
  const previousRaw = process.env.APP_SECRET_PREVIOUS
  // Re-derive when tests (or a reload) swap the environment; otherwise HKDF runs once per purpose.
  if (!cachedRings || cachedRings.env !== env || cachedRings.previousRaw !== previousRaw) {
    cachedRings = { env, previousRaw, byPurpose: new Map() }
  }
  let ring = cachedRings.byPurpose.get(purpose)
  if (!ring) {
    ring = createSecretBoxKeyRing({ current: env.appSecret, previous: parsePreviousAppSecrets(previousRaw) }, purpose)
    cachedRings.byPurpose.set(purpose, ring)
  }
  return ring
}

/** Seals `plaintext` under the ring's current key, bound to `associatedData`. */
export function encryptSecret(ring: SecretBoxKeyRing, plaintext: Uint8Array, associatedData: string): SealedSecret {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const ciphertext = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
  return { keyId: ring.current.id, ciphertext }
}

/**
 * Opens a sealed secret with the key its id names. Throws `SecretBoxError` when the key is not in
 * the ring, the encoding is wrong, or GCM authentication fails (tampering, another row's
 * ciphertext, wrong key): an unopenable secret is an incident, never a soft "no".
 */
export function decryptSecret(ring: SecretBoxKeyRing, sealed: SealedSecret, associatedData: string): Uint8Array {
  const key = ring.current.id === sealed.keyId ? ring.current : ring.previous.find((candidate) => candidate.id === sealed.keyId)
  if (!key) {
    throw new SecretBoxError(
      'unknown-key',
      `secret sealed with key ${sealed.keyId}, which no configured secret derives; add the old secret to APP_SECRET_PREVIOUS`,
    )
  }
  if (!/^[A-Za-z0-9_-]+$/.test(sealed.ciphertext)) throw new SecretBoxError('malformed', 'sealed secret is not base64url')
  const bytes = Buffer.from(sealed.ciphertext, 'base64url')
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('malformed', 'sealed secret is too short')
  const iv = bytes.subarray(0, IV_BYTES)
  const tag = bytes.subarray(bytes.length - TAG_BYTES)
  const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(Buffer.from(associatedData, 'utf8'))
  decipher.setAuthTag(tag)
  try {
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))
  } catch {
    throw new SecretBoxError('authentication-failed', 'sealed secret failed authentication (tampered, moved to another record, or wrong key)')
  }
}

/** True when a secret sealed under `keyId` should be re-sealed under the current key. */
export function isSealedWithOldKey(ring: SecretBoxKeyRing, keyId: string): boolean {
  return keyId !== ring.current.id
}
