import { describe, expect, it } from 'vitest'
import { getSafeRedirect } from './safe-redirect'

describe('getSafeRedirect', () => {
  it('keeps same-origin paths with their query and hash', () => {
    expect(getSafeRedirect('/app')).toBe('/app')
    expect(getSafeRedirect('/settings/security?tab=sessions#revoke')).toBe('/settings/security?tab=sessions#revoke')
    expect(getSafeRedirect('/search?q=a%2Fb')).toBe('/search?q=a%2Fb')
    expect(getSafeRedirect('/')).toBe('/')
  })

  it('uses the fallback for missing or non-string values', () => {
    expect(getSafeRedirect(undefined)).toBe('/')
    expect(getSafeRedirect(null, '/app')).toBe('/app')
    expect(getSafeRedirect(42)).toBe('/')
    expect(getSafeRedirect(['/app'])).toBe('/')
    expect(getSafeRedirect('')).toBe('/')
  })

  const attacks: Array<[string, string]> = [
    ['protocol-relative URL', '//evil.example'],
    ['protocol-relative URL with path', '//evil.example/app'],
    ['triple slash', '///evil.example'],
    ['backslash host', '/\\evil.example'],
    ['double backslash', '\\\\evil.example'],
    ['backslash later in the path', '/app\\..\\evil'],
    ['absolute https URL', 'https://evil.example/app'],
    ['absolute http URL', 'http://127.0.0.1.evil.example/'],
    ['javascript: URL', 'javascript:alert(1)'],
    ['upper-case JavaScript: URL', 'JavaScript:alert(document.cookie)'],
    ['data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['relative path without leading slash', 'evil.example'],
    ['encoded protocol-relative (%2F%2F)', '%2F%2Fevil.example'],
    ['slash then encoded slash', '/%2Fevil.example'],
    ['slash then lower-case encoded slash', '/%2fevil.example'],
    ['double-encoded slash', '/%252Fevil.example'],
    ['encoded backslash', '/%5Cevil.example'],
    ['double-encoded backslash', '/%255Cevil.example'],
    ['tab between slashes (browsers strip it)', '/\t/evil.example'],
    ['newline between slashes', '/\n/evil.example'],
    ['encoded tab between slashes', '/%09/evil.example'],
    ['leading space', ' //evil.example'],
    ['leading encoded space', '%20//evil.example'],
    ['NUL byte', '/app\u0000'],
    ['encoded NUL byte', '/app%00'],
    ['non-breaking space', '/\u00a0/evil.example'],
    ['malformed percent-encoding', '/%E0%A4%A'],
    ['overlong value', `/${'a'.repeat(5000)}`],
  ]

  for (const [name, value] of attacks) {
    it(`refuses ${name}`, () => {
      expect(getSafeRedirect(value)).toBe('/')
      expect(getSafeRedirect(value, '/app')).toBe('/app')
    })
  }
})
