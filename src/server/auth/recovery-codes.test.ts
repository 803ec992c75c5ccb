import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode, RECOVERY_CODE_ALPHABET, RECOVERY_CODE_COUNT, RECOVERY_CODE_LENGTH } from './recovery-codes'

const key = new Uint8Array(randomBytes(32))

const displayFormat = /^[0-9a-hjkmnp-tv-z]{4}(?:-[0-9a-hjkmnp-tv-z]{4}){5}$/

describe('recovery codes', () => {
  it('generates 10 distinct codes of ≥ 112 bits (ASVS 6.5.2), shown as six groups of four, each with its hash', () => {
    const codes = generateRecoveryCodes(key)
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT)
    expect(new Set(codes.map(({ code }) => code)).size).toBe(RECOVERY_CODE_COUNT)
    for (const { code, codeHash } of codes) {
      expect(code).toMatch(displayFormat)
      expect(codeHash).toBe(hashRecoveryCode(normalizeRecoveryCode(code)!, key))
    }
    // 24 symbols from a 32-symbol alphabet: log2(32) × 24 = 120 bits.
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32)
    expect(codes[0]!.code.replaceAll('-', '')).toHaveLength(RECOVERY_CODE_LENGTH)
    expect(Math.log2(RECOVERY_CODE_ALPHABET.length) * RECOVERY_CODE_LENGTH).toBeGreaterThanOrEqual(112)
  })

  it('leaves out the look-alike letters i, l, o, u', () => {
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[ilou]/)
  })

  it('uses every symbol of the alphabet (no bias towards a subset)', () => {
    const seen = new Map<string, number>()
    for (let round = 0; round < 100; round++) {
      for (const { code } of generateRecoveryCodes(key)) {
        for (const char of code.replaceAll('-', '')) seen.set(char, (seen.get(char) ?? 0) + 1)
      }
    }
    expect(seen.size).toBe(32)
    // 24,000 symbols over 32 buckets: ~750 each; a masking bug would empty or double some.
    for (const occurrences of seen.values()) expect(occurrences).toBeGreaterThan(550)
  })

  it('normalises a current code: case, dashes and spaces ignored', () => {
    expect(normalizeRecoveryCode('ABCD-EFGH-JKMN-PQRS-TVWX-YZ01')).toBe('abcdefghjkmnpqrstvwxyz01')
    expect(normalizeRecoveryCode(' abcd efgh jkmn pqrs tvwx yz01 ')).toBe('abcdefghjkmnpqrstvwxyz01')
  })

  it('normalises legacy 10-character codes (issued before ADR 010): case, dashes, spaces and look-alike letters', () => {
    expect(normalizeRecoveryCode('abcde-fgh12')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode('ABCDE-FGH12')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode(' abcde fgh12 ')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode('abcdefgh12')).toBe('abcdefgh12')
    expect(normalizeRecoveryCode('abcde-fghIL')).toBe('abcdefgh11')
    expect(normalizeRecoveryCode('Oabcd-efgh1')).toBe('0abcdefgh1')
  })

  it.each([
    ['too short', 'abcde-fgh1'],
    ['between the two lengths', 'abcde-fgh123'],
    ['one short of a current code', 'abcd-efgh-jkmn-pqrs-tvwx-yz0'],
    ['one over a current code', 'abcd-efgh-jkmn-pqrs-tvwx-yz012'],
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
