import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EnvError } from '../env'
import {
  createSecretBoxKeyRing,
  decryptSecret,
  deriveSecretBoxKey,
  encryptSecret,
  isSealedWithOldKey,
  parsePreviousAppSecrets,
  SecretBoxError,
  type SealedSecret,
} from './secret-box'

const currentSecret = new Uint8Array(randomBytes(32))
const oldSecret = new Uint8Array(randomBytes(32))
const ring = createSecretBoxKeyRing({ current: currentSecret, previous: [] }, 'test-purpose')
const plaintext = new Uint8Array(randomBytes(20))

function flipBit(sealed: SealedSecret, byteIndex: number): SealedSecret {
  const bytes = Buffer.from(sealed.ciphertext, 'base64url')
  const index = byteIndex < 0 ? bytes.length + byteIndex : byteIndex
  bytes[index] = bytes[index]! ^ 0x01
  return { ...sealed, ciphertext: bytes.toString('base64url') }
}

function decryptFailure(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError)
    return (error as SecretBoxError).reason
  }
  throw new Error('expected decryption to fail')
}

describe('secret-box: AES-256-GCM sealing', () => {
  it('round-trips and has the iv ‖ ciphertext ‖ tag layout', () => {
    const sealed = encryptSecret(ring, plaintext, 'user-1')
    expect(sealed.keyId).toMatch(/^[0-9a-f]{8}$/)
    expect(sealed.keyId).toBe(ring.current.id)
    expect(sealed.ciphertext).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Buffer.from(sealed.ciphertext, 'base64url')).toHaveLength(12 + 20 + 16)
    expect(decryptSecret(ring, sealed, 'user-1')).toEqual(plaintext)
  })

  it('uses a fresh IV per message (same plaintext, different ciphertexts)', () => {
    const first = encryptSecret(ring, plaintext, 'user-1')
    const second = encryptSecret(ring, plaintext, 'user-1')
    expect(first.ciphertext).not.toBe(second.ciphertext)
    expect(first.ciphertext.slice(0, 16)).not.toBe(second.ciphertext.slice(0, 16))
  })

  it('tampered ciphertext, tag or IV is refused', () => {
    const sealed = encryptSecret(ring, plaintext, 'user-1')
    expect(decryptFailure(() => decryptSecret(ring, flipBit(sealed, 0), 'user-1'))).toBe('authentication-failed') // iv
    expect(decryptFailure(() => decryptSecret(ring, flipBit(sealed, 12), 'user-1'))).toBe('authentication-failed') // body
    expect(decryptFailure(() => decryptSecret(ring, flipBit(sealed, -1), 'user-1'))).toBe('authentication-failed') // tag
  })

  it('truncated or non-base64url input is refused as malformed', () => {
    const sealed = encryptSecret(ring, plaintext, 'user-1')
    expect(decryptFailure(() => decryptSecret(ring, { ...sealed, ciphertext: sealed.ciphertext.slice(0, 20) }, 'user-1'))).toBe('malformed')
    expect(decryptFailure(() => decryptSecret(ring, { ...sealed, ciphertext: `${sealed.ciphertext}=` }, 'user-1'))).toBe('malformed')
    expect(decryptFailure(() => decryptSecret(ring, { ...sealed, ciphertext: '' }, 'user-1'))).toBe('malformed')
  })

  it('row-swap attack: a secret copied into another user\'s row (other associated data) is refused', () => {
    const attackersSecret = encryptSecret(ring, plaintext, 'attacker-user-id')
    expect(decryptFailure(() => decryptSecret(ring, attackersSecret, 'victim-user-id'))).toBe('authentication-failed')
  })

  it('a ciphertext from another key (another deployment or purpose) is refused even under a forged key id', () => {
    const otherRing = createSecretBoxKeyRing({ current: oldSecret, previous: [] }, 'test-purpose')
    const foreign = encryptSecret(otherRing, plaintext, 'user-1')
    expect(decryptFailure(() => decryptSecret(ring, foreign, 'user-1'))).toBe('unknown-key')
    expect(decryptFailure(() => decryptSecret(ring, { ...foreign, keyId: ring.current.id }, 'user-1'))).toBe('authentication-failed')
  })

  it('derives independent keys per purpose and per secret, deterministically', () => {
    expect(deriveSecretBoxKey(currentSecret, 'a').key).toEqual(deriveSecretBoxKey(currentSecret, 'a').key)
    expect(deriveSecretBoxKey(currentSecret, 'a').id).not.toBe(deriveSecretBoxKey(currentSecret, 'b').id)
    expect(deriveSecretBoxKey(currentSecret, 'a').id).not.toBe(deriveSecretBoxKey(oldSecret, 'a').id)
    expect(deriveSecretBoxKey(currentSecret, 'a').key).toHaveLength(32)
    // The derived key is not the app secret itself.
    expect(Buffer.from(deriveSecretBoxKey(currentSecret, 'a').key).equals(Buffer.from(currentSecret))).toBe(false)
    expect(() => deriveSecretBoxKey(currentSecret, 'Bad Purpose')).toThrow(/kebab-case/)
  })
})

describe('secret-box: key rotation', () => {
  it('opens secrets sealed under a previous key and seals new ones under the current key', () => {
    const before = createSecretBoxKeyRing({ current: oldSecret, previous: [] }, 'test-purpose')
    const sealedBefore = encryptSecret(before, plaintext, 'user-1')

    const after = createSecretBoxKeyRing({ current: currentSecret, previous: [oldSecret] }, 'test-purpose')
    expect(decryptSecret(after, sealedBefore, 'user-1')).toEqual(plaintext)
    expect(isSealedWithOldKey(after, sealedBefore.keyId)).toBe(true)

    const sealedAfter = encryptSecret(after, plaintext, 'user-1')
    expect(sealedAfter.keyId).toBe(after.current.id)
    expect(isSealedWithOldKey(after, sealedAfter.keyId)).toBe(false)

    // Once the old secret leaves APP_SECRET_PREVIOUS, its ciphertexts no longer open.
    expect(decryptFailure(() => decryptSecret(ring, sealedBefore, 'user-1'))).toBe('unknown-key')
  })

  it('ignores a previous secret equal to the current one', () => {
    const doubled = createSecretBoxKeyRing({ current: currentSecret, previous: [currentSecret, oldSecret, oldSecret] }, 'test-purpose')
    expect(doubled.previous).toHaveLength(1)
  })

  it('parses APP_SECRET_PREVIOUS as comma-separated secrets with APP_SECRET\'s rules', () => {
    const hex = Buffer.from(oldSecret).toString('hex')
    const base64url = Buffer.from(currentSecret).toString('base64url')
    expect(parsePreviousAppSecrets(undefined)).toEqual([])
    expect(parsePreviousAppSecrets('')).toEqual([])
    expect(parsePreviousAppSecrets(` ${hex} , ${base64url},`)).toEqual([oldSecret, currentSecret])
    expect(() => parsePreviousAppSecrets('short')).toThrow(EnvError)
    expect(() => parsePreviousAppSecrets(`${hex},${'ab'.repeat(32)}`)).toThrow(EnvError)
  })
})
