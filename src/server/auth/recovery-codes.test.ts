import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode, RECOVERY_CODE_ALPHABET, RECOVERY_CODE_COUNT } from './recovery-codes'

const key = new Uint8Array(randomBytes(32))

const displayFormat = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/

describe('recovery codes', () => {
  it('generates 10 distinct codes of ≥ 50 bits, shown as xxxxx-xxxxx, each with its hash', () => {
    const codes = generateRecoveryCodes(key)
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT)
    expect(new Set(codes.map(({ code }) => code)).size).toBe(RECOVERY_CODE_COUNT)
    for (const { code, codeHash } of codes) {
      expect(code).toMatch(displayFormat)
      expect(codeHash).toBe(hashRecoveryCode(normalizeRecoveryCode(code)!, key))
    }
    // 10 symbols from a 32-symbol alphabet: log2(32) × 10 = 50 bits.
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32)
    expect(Math.log2(RECOVERY_CODE_ALPHABET.length) * 10).toBeGreaterThanOrEqual(50)
  })

  it('leaves out the look-alike letters i, l, o, u', () => {
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[ilou]/)
  })

  it('uses every symbol of the alphabet (no bias towards a subset)', () => {
    const seen = new Map<string, number>()
    for (let round = 0; round < 100; round++) {
      for (const { code } of generateRecoveryCodes(key)) {
        for (const char of code.replace('-', '')) seen.set(char, (seen.get(char) ?? 0) + 1)
      }
    }
    expect(seen.size).toBe(32)
    // 10,000 symbols over 32 buckets: ~312 each; a masking bug would empty or double some.
    for (const occurrences of seen.values()) expect(occurrences).toBeGreaterThan(200)
  })

  it('normalises case, dashes, spaces and look-alike letters', () => {
    expect(normalizeRecoveryCode('abcde-fgh12')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode('ABCDE-FGH12')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode(' abcde fgh12 ')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode('abcdefgh12')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode('abcde-fghIL')).toBe('abcdefgh11')
    expect(normalizeRecoveryCode('Oabcd-efgh1')).toBe('0abcdefgh1')
  })

  it.each([
    ['too short', 'abcde-fgh1'],
    ['too long', 'abcde-fgh123'],
    ['a letter outside the alphabet (u)', 'abcde-fghu1'],
    ['punctuation', 'abcde_fgh12'],
    ['non-ASCII', 'abcdé-fgh12'],
    ['empty', ''],
    ['oversized', 'a'.repeat(1000)],
  ])('refuses %s', (_label, input) => {
    expect(normalizeRecoveryCode(input)).toBeNull()
  })

  it('hashes with HMAC-SHA256 under the key (hex), equal for every spelling of one code', () => {
    const hash = hashRecoveryCode(normalizeRecoveryCode('ABCDE-FGH12')!, key)
    expect(hash).toBe(createHmac('sha256', key).update('abcdefgh12').digest('hex'))
    expect(hash).toBe(hashRecoveryCode(normalizeRecoveryCode('abcdefgh12')!, key))
    expect(hash).not.toBe(hashRecoveryCode(normalizeRecoveryCode('abcdefgh13')!, key))
  })

  it('a leaked table is useless without the key: another key gives unrelated hashes (offline brute force)', () => {
    const otherKey = new Uint8Array(randomBytes(32))
    expect(hashRecoveryCode('abcdefgh12', key)).not.toBe(hashRecoveryCode('abcdefgh12', otherKey))
  })
})
