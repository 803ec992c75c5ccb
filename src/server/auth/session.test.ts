import { describe, expect, it } from 'vitest'
import { sha256 } from '@oslojs/crypto/sha2'
import { encodeHexLowerCase } from '@oslojs/encoding'
import { hashSessionSecret, parseSessionToken } from './session'

const ID = 'abcdefghijklmnopqrstuvwxyz'
const SECRET = 'abcdefghijklmnopqrstuvwxyz234567'

describe('parseSessionToken', () => {
  it('splits a well-formed `<id>.<secret>` token', () => {
    expect(parseSessionToken(`${ID}.${SECRET}`)).toEqual({ id: ID, secret: SECRET })
  })

  it('refuses malformed tokens without touching the database (null, no throw)', () => {
    const malformed = [
      '',
      '.',
      ID,
      `${ID}.`,
      `.${SECRET}`,
      `${ID}${SECRET}`,
      `${ID}.${SECRET}.x`,
      `${ID.toUpperCase()}.${SECRET}`,
      `${ID}.${SECRET.toUpperCase()}`,
      `${ID}.${SECRET}0`,
      `${ID}.${SECRET.slice(1)}`,
      `${ID}a.${SECRET}`,
      `${ID}.${SECRET.slice(0, -1)}1`,
      `${ID}.${SECRET.slice(0, -1)}=`,
      `${ID} .${SECRET}`,
      `' OR '1'='1.${SECRET}`,
      `${ID}.${'a'.repeat(10_000)}`,
    ]
    for (const token of malformed) expect(parseSessionToken(token), token).toBeNull()
  })
})

describe('hashSessionSecret', () => {
  it('is the lower-case hex SHA-256 of the secret (64 chars, what the sessions table stores)', () => {
    const hash = hashSessionSecret(SECRET)
    expect(hash).toBe(encodeHexLowerCase(sha256(new TextEncoder().encode(SECRET))))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hashSessionSecret(`${SECRET.slice(0, -1)}a`)).not.toBe(hash)
  })
})
