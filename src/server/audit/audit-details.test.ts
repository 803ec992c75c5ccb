import { describe, expect, it } from 'vitest'
import {
  AuditDetailsError,
  findSecretLookingKeys,
  isSecretLookingKey,
  MAX_AUDIT_DETAILS_CHARS,
  normalizeAuditDetails,
  prepareAuditDetails,
} from './audit-details'

describe('secret-looking detail keys', () => {
  it.each([
    'password', 'newPassword', 'password_hash', 'passwordHash', 'totpSecret', 'resetToken', 'sessionToken', 'idToken',
    'recoveryCodes', 'OTPCode', 'code', 'x-api-key', 'apiKey', 'clientSecret', 'privateKey', 'Cookie', 'set-cookie',
    'authorization', 'SAMLResponse', 'credentials', 'hashes', 'jwt',
  ])('%s is refused', (key) => {
    expect(isSecretLookingKey(key)).toBe(true)
  })

  it.each(['email', 'reason', 'remaining', 'sessionId', 'method', 'connectionId', 'role', 'previousRole', 'keyId', 'domain', 'count'])(
    '%s is allowed',
    (key) => {
      expect(isSecretLookingKey(key)).toBe(false)
    },
  )

  it('finds secrets nested in objects and arrays, by path', () => {
    expect(findSecretLookingKeys({ user: { password: 'x', email: 'a@b.c' }, items: [{ token: 'y' }], ok: true })).toEqual([
      'user.password',
      'items[0].token',
    ])
  })
})

describe('prepareAuditDetails', () => {
  const noWarn = () => {
    throw new Error('unexpected warning')
  }

  it('strict mode (dev, test) throws on a secret-looking key and names the key, never the value', () => {
    expect(() => prepareAuditDetails({ totpCode: '123456' }, 'strict', noWarn)).toThrow(AuditDetailsError)
    expect(() => prepareAuditDetails({ totpCode: '123456' }, 'strict', noWarn)).toThrow(/totpCode/)
    expect(() => prepareAuditDetails({ totpCode: '123456' }, 'strict', noWarn)).not.toThrow(/123456/)
  })

  it('redact mode (production) keeps the event, redacts the value and warns without it', () => {
    const warnings: string[] = []
    const details = prepareAuditDetails({ reason: 'bad', nested: { resetToken: 'abc' } }, 'redact', (m) => warnings.push(m))
    expect(details).toEqual({ reason: 'bad', nested: { resetToken: '[redacted]' } })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('nested.resetToken')
    expect(warnings[0]).not.toContain('abc')
  })

  it('bounds the size of details', () => {
    const huge = { reason: 'x'.repeat(MAX_AUDIT_DETAILS_CHARS) }
    expect(() => prepareAuditDetails(huge, 'strict', noWarn)).toThrow(/limit/)
    const warnings: string[] = []
    expect(prepareAuditDetails(huge, 'redact', (m) => warnings.push(m))).toEqual({ omitted: 'details exceeded the size limit' })
    expect(warnings).toHaveLength(1)
  })

  it('passes harmless details through', () => {
    expect(prepareAuditDetails({ method: 'password', remaining: 7 }, 'strict', noWarn)).toEqual({ method: 'password', remaining: 7 })
    expect(prepareAuditDetails(undefined, 'strict', noWarn)).toEqual({})
  })
})

describe('normalizeAuditDetails', () => {
  it('gives the form the JSON column reads back: dates as ISO strings, undefined dropped', () => {
    expect(normalizeAuditDetails({ at: new Date('2026-01-02T03:04:05.006Z'), gone: undefined, list: [1, 'a'] })).toEqual({
      at: '2026-01-02T03:04:05.006Z',
      list: [1, 'a'],
    })
  })

  it('replaces lone surrogates, which utf8mb4 cannot store', () => {
    expect(normalizeAuditDetails({ name: 'a\uD800b' })).toEqual({ name: 'a\uFFFDb' })
    expect(normalizeAuditDetails({ name: 'ok \uD83D\uDE00' })).toEqual({ name: 'ok \uD83D\uDE00' })
  })

  it('refuses values that are not plain JSON objects', () => {
    expect(() => normalizeAuditDetails({ n: 1n })).toThrow()
    expect(() => normalizeAuditDetails([] as unknown as Record<string, unknown>)).toThrow(AuditDetailsError)
  })
})
