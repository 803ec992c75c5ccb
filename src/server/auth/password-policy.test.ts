import { describe, expect, it } from 'vitest'
import appConfig from '../../../app.config'
import { checkPasswordPolicy } from './password-policy'

const { minLengthWithMfa, minLengthWithoutMfa, maxLength } = appConfig.password

/** A string of `length` characters that trips no other rule (varied letters, no common word). */
function varied(length: number): string {
  return Array.from({ length }, (_, i) => 'qzjxkvwbfhmp'[i % 12]).join('')
}

describe('checkPasswordPolicy (NIST SP 800-63B §3.1.1.2)', () => {
  it('the minimum depends on MFA: 15 for password-only accounts, 8 with a second factor', () => {
    expect(checkPasswordPolicy(varied(minLengthWithoutMfa - 1), { hasMfa: false })).toEqual({ isAcceptable: false, reason: `Use at least ${minLengthWithoutMfa} characters.` })
    expect(checkPasswordPolicy(varied(minLengthWithoutMfa), { hasMfa: false })).toEqual({ isAcceptable: true })
    expect(checkPasswordPolicy(varied(minLengthWithMfa - 1), { hasMfa: true })).toMatchObject({ isAcceptable: false })
    expect(checkPasswordPolicy(varied(minLengthWithMfa), { hasMfa: true })).toEqual({ isAcceptable: true })
  })

  it('length counts characters (code points), not UTF-16 units or bytes', () => {
    const emoji = ['😀', '🔐', '🦊', '🌊', '🎲']
    const fifteen = Array.from({ length: 15 }, (_, i) => emoji[i % emoji.length]).join('')
    expect(fifteen.length).toBe(30)
    expect(checkPasswordPolicy(fifteen, { hasMfa: false })).toEqual({ isAcceptable: true })
    expect(checkPasswordPolicy(fifteen.slice(0, 28), { hasMfa: false })).toMatchObject({ isAcceptable: false, reason: expect.stringMatching(/at least 15/) })
  })

  it('at least 64 characters are allowed, up to the configured maximum, and one more is refused', () => {
    expect(maxLength).toBeGreaterThanOrEqual(64)
    expect(checkPasswordPolicy(varied(64), { hasMfa: false })).toEqual({ isAcceptable: true })
    expect(checkPasswordPolicy(varied(maxLength), { hasMfa: false })).toEqual({ isAcceptable: true })
    expect(checkPasswordPolicy(varied(maxLength + 1), { hasMfa: false })).toEqual({ isAcceptable: false, reason: `Use at most ${maxLength} characters.` })
  })

  it('no composition rules: all lower-case, digits only, or spaces are fine', () => {
    for (const password of ['correct horse battery staple', '839201746583920', 'just some plain words here']) {
      expect(checkPasswordPolicy(password, { hasMfa: false }), password).toEqual({ isAcceptable: true })
    }
  })

  it('passwords from the shipped blocklist are refused, case-insensitively', () => {
    for (const password of ['passwordpassword', 'PASSWORDPASSWORD', 'qwerty123456789', '1qaz2wsx3edc4rfv', 'password1']) {
      expect(checkPasswordPolicy(password, { hasMfa: true }), password).toMatchObject({ isAcceptable: false, reason: expect.stringMatching(/too common/) })
    }
  })

  it('repetitive strings and the service name are refused', () => {
    expect(checkPasswordPolicy('a'.repeat(20), { hasMfa: false })).toMatchObject({ isAcceptable: false })
    expect(checkPasswordPolicy('ab'.repeat(10), { hasMfa: false })).toMatchObject({ isAcceptable: false })
    expect(checkPasswordPolicy(`my ${appConfig.appName.toUpperCase()} login pass`, { hasMfa: false })).toMatchObject({ isAcceptable: false })
  })

  it("the email's local part inside the password is refused (when it is long enough to mean something)", () => {
    expect(checkPasswordPolicy('x-jonathan-secret-x', { hasMfa: false, email: 'Jonathan@example.com' })).toMatchObject({ isAcceptable: false })
    // Very short local parts would refuse half the dictionary.
    expect(checkPasswordPolicy('a quiet lake at dawn', { hasMfa: false, email: 'at@example.com' })).toEqual({ isAcceptable: true })
  })

  it('a listed word decorated with digits and symbols is as weak as the word (attack rule sets)', () => {
    for (const password of ['password1234567', 'Password1234567!', '!!dragon123456789']) {
      expect(checkPasswordPolicy(password, { hasMfa: false }), password).toMatchObject({ isAcceptable: false, reason: expect.stringMatching(/too common/) })
    }
  })

  it('keyboard and alphabet sequences are refused, passphrases are not', () => {
    for (const password of ['1234567890123456', 'abcdefghijklmnop', '9876543210987654']) {
      expect(checkPasswordPolicy(password, { hasMfa: false }), password).toMatchObject({ isAcceptable: false, reason: expect.stringMatching(/sequences/) })
    }
    expect(checkPasswordPolicy('correct horse battery staple', { hasMfa: false })).toEqual({ isAcceptable: true })
  })
})

describe('checkPasswordPolicy: patterned passwords the blocklist does not list (strength estimate, ADR 010)', () => {
  it('keyboard walks are refused with a message naming the pattern', () => {
    for (const password of ['qwertyuiopasdfgh', 'zxcvbnmasdfghjkl', 'poiuytrewqlkjhgf', 'asdfghjklqwertyu']) {
      expect(checkPasswordPolicy(password, { hasMfa: false }), password).toMatchObject({ isAcceptable: false, reason: expect.stringMatching(/keyboard patterns/) })
    }
  })

  it('repeated and patterned passwords are refused without MFA', () => {
    expect(checkPasswordPolicy('monkeymonkeymonkey', { hasMfa: false })).toMatchObject({ isAcceptable: false, reason: expect.stringMatching(/repeated/) })
    expect(checkPasswordPolicy('qwerty12345qwerty12345', { hasMfa: false })).toMatchObject({ isAcceptable: false })
    expect(checkPasswordPolicy('q1w2e3r4t5y6u7i8', { hasMfa: false })).toMatchObject({ isAcceptable: false })
    expect(checkPasswordPolicy('1qaz2wsx3edc4rfv5tgb', { hasMfa: false })).toMatchObject({ isAcceptable: false })
  })

  it('with a second factor the bar is one step lower, but a keyboard walk is still refused', () => {
    expect(minLengthWithMfa).toBe(8)
    expect(checkPasswordPolicy('qzjxkvwb', { hasMfa: true })).toEqual({ isAcceptable: true })
    expect(checkPasswordPolicy('qwertyuiop', { hasMfa: true })).toMatchObject({ isAcceptable: false })
  })

  it('the demo and fixture passphrases still pass', () => {
    for (const password of ['demo-owner-password', 'demo-admin-password', 'demo-member-password', 'correct horse battery staple', 'some new passphrase here', 'a long enough passphrase']) {
      expect(checkPasswordPolicy(password, { hasMfa: false }), password).toEqual({ isAcceptable: true })
    }
  })

  it('stays cheap on adversarial input: a 256-character string of l33t symbols is scored within a bound', () => {
    const hostile = Array.from({ length: maxLength }, (_, i) => '4@3!1|0$5+7('[i % 12]).join('')
    const started = performance.now()
    checkPasswordPolicy(hostile, { hasMfa: false })
    // Generous bound on a shared machine; the measured figure (~15 ms worst) is in ADR 010.
    expect(performance.now() - started).toBeLessThan(200)
  })
})
