/** The doctor's "which certificate signed it" (issue 10): each listed certificate in turn, never KeyInfo's. */
import { describe, expect, it } from 'vitest'
import { buildSamlTestResponse, createSamlTestKeys } from '../../../../test/support/saml-responses'
import { describeSamlCertificate } from './saml-certificates'
import { findSigningCertificate } from './saml-signing-certificate'

const oldKeys = createSamlTestKeys('doctor-old')
const newKeys = createSamlTestKeys('doctor-new')
const now = new Date()
const fingerprint = (pem: string) => describeSamlCertificate(pem, now).fingerprintSha256

function response(keys = newKeys, knobs: { signResponse?: boolean; signAssertion?: boolean } = {}) {
  return buildSamlTestResponse({ keys, idpEntityId: 'https://idp.doctor.test', spEntityId: 'https://sp/metadata', acsUrl: 'https://sp/acs', inResponseTo: '_r1', ...knobs }).xml
}

describe('findSigningCertificate', () => {
  it('names the listed certificate that verifies the Response and Assertion signatures, wherever it is in the list', () => {
    const xml = response(newKeys)
    expect(findSigningCertificate(xml, [oldKeys.certificatePem, newKeys.certificatePem], now)).toEqual({ fingerprintSha256: fingerprint(newKeys.certificatePem), subject: 'CN=test doctor-new' })
    expect(findSigningCertificate(response(oldKeys), [oldKeys.certificatePem, newKeys.certificatePem], now)?.fingerprintSha256).toBe(fingerprint(oldKeys.certificatePem))
  })

  it('works when only the Assertion is signed', () => {
    expect(findSigningCertificate(response(oldKeys, { signResponse: false }), [newKeys.certificatePem, oldKeys.certificatePem], now)?.fingerprintSha256).toBe(fingerprint(oldKeys.certificatePem))
  })

  it('names nothing when no listed certificate verifies, even though the KeyInfo carries the signer’s certificate', () => {
    expect(findSigningCertificate(response(newKeys), [oldKeys.certificatePem], now)).toBeNull()
  })

  it('names nothing for an unsigned response or one that is not a SAML Response', () => {
    expect(findSigningCertificate(response(newKeys, { signResponse: false, signAssertion: false }), [newKeys.certificatePem], now)).toBeNull()
    expect(findSigningCertificate('<x/>', [newKeys.certificatePem], now)).toBeNull()
  })
})
