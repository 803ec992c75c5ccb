/** MFA after SSO (ADR 014): only listed values count, only under trust_idp_mfa. */
import { describe, expect, it } from 'vitest'
import { decideIdpMfa, formatAuthnContext } from './assurance'

const connection = { mfaAmrValues: ['mfa', 'otp'], mfaAcrValues: ['urn:example:mfa'] }

describe('decideIdpMfa', () => {
  it('never trusts the IdP under require_gatehouse_mfa, but records the assertion', () => {
    expect(decideIdpMfa('require_gatehouse_mfa', connection, { amr: ['pwd', 'otp'] })).toEqual({ isMfaSatisfiedByIdp: false, authnContext: 'amr=pwd,otp' })
  })

  it.each([
    [{ amr: ['pwd', 'otp'] }, true],
    [{ amr: 'mfa' }, true],
    [{ acr: 'urn:example:mfa' }, true],
    [{ amr: ['pwd'] }, false],
    [{ amr: ['OTP'] }, false],
    [{ amr: ['hwk'] }, false],
    [{ amr: [{ toString: (): string => 'otp' }] }, false],
    [{ acr: 'urn:example:password' }, false],
    [{}, false],
  ])('under trust_idp_mfa, %j satisfies MFA: %s', (assertion, expected) => {
    expect(decideIdpMfa('trust_idp_mfa', connection, assertion).isMfaSatisfiedByIdp).toBe(expected)
  })

  it('with empty lists (the default) nothing counts', () => {
    expect(decideIdpMfa('trust_idp_mfa', { mfaAmrValues: [], mfaAcrValues: [] }, { amr: ['mfa', 'otp', 'hwk'], acr: 'x' }).isMfaSatisfiedByIdp).toBe(false)
  })

  it('bounds and sanitises what it records', () => {
    expect(formatAuthnContext({ amr: ['pwd', 'otp'], acr: 'urn:x' })).toBe('amr=pwd,otp acr=urn:x')
    expect(formatAuthnContext({ amr: ['a\nb'] })).toBe('amr=a?b')
    expect(formatAuthnContext({ amr: Array(200).fill('otp') })!.length).toBe(255)
    expect(formatAuthnContext({})).toBeNull()
  })
})
