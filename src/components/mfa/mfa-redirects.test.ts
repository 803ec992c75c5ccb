import { describe, expect, it } from 'vitest'
import { getMfaCompletionTarget } from './mfa-redirects'
import { cleanTotpInput, toTotpCode } from './totp-code-field'
import { groupManualKey } from './totp-enrollment'

describe('getMfaCompletionTarget', () => {
  it('keeps same-origin targets and defaults to the dashboard', () => {
    expect(getMfaCompletionTarget('/settings/security?tab=mfa')).toBe('/settings/security?tab=mfa')
    expect(getMfaCompletionTarget(undefined)).toBe('/app')
  })

  it('open redirect: other origins fall back to the home page', () => {
    for (const target of ['https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      expect(getMfaCompletionTarget(target)).toBe('/')
    }
  })

  it('redirect loop: a target pointing back at the challenge page is replaced', () => {
    for (const target of ['/login/mfa', '/login/mfa/', '/login/mfa?redirect=%2Flogin%2Fmfa', '/login/mfa#x']) {
      expect(getMfaCompletionTarget(target)).toBe('/app')
    }
  })
})

describe('code and key formatting', () => {
  it('keeps only digits and spaces in a typed code, at most "123 456"', () => {
    expect(cleanTotpInput('12a3 45６6789')).toBe('123 456')
    expect(toTotpCode('123 456')).toBe('123456')
  })

  it('groups the manual key by four', () => {
    expect(groupManualKey('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP')
  })
})
