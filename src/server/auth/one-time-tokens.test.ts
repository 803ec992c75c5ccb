import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import {
  EMAIL_VERIFICATION_TOKEN_TTL_SECONDS,
  generateOneTimeToken,
  getOneTimeTokenTtlSeconds,
  hashOneTimeToken,
  isWellFormedOneTimeToken,
  PASSWORD_RESET_TOKEN_TTL_SECONDS,
} from './one-time-tokens'

describe('one-time token values', () => {
  it('are 32 random bytes as 43 base64url characters, different every time', () => {
    const tokens = new Set(Array.from({ length: 200 }, generateOneTimeToken))
    expect(tokens.size).toBe(200)
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(token, 'base64url')).toHaveLength(32)
      expect(isWellFormedOneTimeToken(token)).toBe(true)
    }
  })

  it('are stored as their hex SHA-256 (an independent implementation agrees), never as themselves', () => {
    const token = generateOneTimeToken()
    const hash = hashOneTimeToken(token)
    expect(hash).toBe(createHash('sha256').update(token).digest('hex'))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hash).not.toContain(token)
  })

  it('malformed strings are recognised before any query (wrong length, padding, other alphabets, SQL)', () => {
    const token = generateOneTimeToken()
    for (const bad of ['', token.slice(1), `${token}A`, `${token.slice(0, 42)}=`, `${token.slice(0, 42)}+`, `${token.slice(0, 42)}/`, `' OR 1=1 -- ${'x'.repeat(30)}`, ` ${token.slice(1)}`]) {
      expect(isWellFormedOneTimeToken(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe('one-time token lifetimes', () => {
  it('reset links live 30 minutes, verification links 24 hours', () => {
    expect(PASSWORD_RESET_TOKEN_TTL_SECONDS).toBe(30 * 60)
    expect(EMAIL_VERIFICATION_TOKEN_TTL_SECONDS).toBe(24 * 60 * 60)
    expect(getOneTimeTokenTtlSeconds('password_reset')).toBe(PASSWORD_RESET_TOKEN_TTL_SECONDS)
    expect(getOneTimeTokenTtlSeconds('email_verification')).toBe(EMAIL_VERIFICATION_TOKEN_TTL_SECONDS)
  })
})
