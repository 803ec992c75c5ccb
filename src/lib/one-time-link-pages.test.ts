import { describe, expect, it } from 'vitest'
import { fingerprintOneTimeToken, SECRET_IN_URL_PAGE_HEADERS, validateOneTimeLinkSearch } from './one-time-link-pages'

describe('one-time link pages', () => {
  it('are never stored and never name their URL in a Referer', () => {
    expect(SECRET_IN_URL_PAGE_HEADERS).toEqual({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
  })

  it('name a token in loader deps (written into the page) by a short fingerprint, never the token', () => {
    const token = 'Kq3x9vJ0b6mN2pQ8rS4tU7wX1yZ5aB3cD6eF9gH2iJ4'
    const fingerprint = fingerprintOneTimeToken(token)
    expect(fingerprint).toMatch(/^[0-9a-f]{8}$/)
    expect(token).not.toContain(fingerprint)
    expect(fingerprintOneTimeToken(token)).toBe(fingerprint)
    expect(fingerprintOneTimeToken(`${token.slice(0, -1)}5`)).not.toBe(fingerprint)
    expect(fingerprintOneTimeToken(undefined)).toBeNull()
    expect(fingerprintOneTimeToken('')).toBeNull()
    expect(fingerprintOneTimeToken(['a', 'b'])).toBeNull()
  })

  it('read a string token from the search, and nothing else', () => {
    expect(validateOneTimeLinkSearch({ token: 'abc', other: 'x' })).toEqual({ token: 'abc' })
    expect(validateOneTimeLinkSearch({ token: 42 })).toEqual({})
    expect(validateOneTimeLinkSearch({})).toEqual({})
  })
})
