/**
 * Pre-parse refusals (issue 10, item 3): oversized bodies, non-base64 / non-UTF-8, DOCTYPE (entity
 * expansion, XXE, remote DTD: refused before any parser, so no outbound request can happen),
 * EncryptedAssertion, SHA-1 signature or digest (SHAttered; node-saml 5.1.0 accepts them).
 */
import { describe, expect, it } from 'vitest'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../../../../test/support/saml-responses'
import { isSamlBodyTooLarge, preparseSamlResponse } from './saml-preparse'

const MAX = 256 * 1024
const base: SamlTestResponseOptions = {
  keys: createSamlTestKeys('preparse'),
  idpEntityId: 'https://idp.globex.test/metadata',
  spEntityId: 'http://localhost:3000/api/auth/saml/c1/metadata',
  acsUrl: 'http://localhost:3000/api/auth/saml/c1/acs',
  inResponseTo: '_request',
}

function reasonFor(options: Partial<SamlTestResponseOptions>) {
  const result = preparseSamlResponse(buildSamlTestResponse({ ...base, ...options }).base64, { maxBytes: MAX })
  return result.isAccepted ? 'accepted' : result.reason
}

describe('SAML pre-parse checks', () => {
  it('accepts a good signed response and returns its XML', () => {
    const built = buildSamlTestResponse(base)
    const result = preparseSamlResponse(built.base64, { maxBytes: MAX })
    expect(result).toEqual({ isAccepted: true, xml: built.xml })
  })

  it('accepts base64 wrapped over lines, as some IdPs send it', () => {
    const wrapped = buildSamlTestResponse(base).base64.replace(/.{76}/g, '$&\r\n')
    expect(preparseSamlResponse(wrapped, { maxBytes: MAX }).isAccepted).toBe(true)
  })

  it('an oversized response is refused with 413 before decoding', () => {
    expect(preparseSamlResponse('A'.repeat(MAX + 4), { maxBytes: MAX })).toEqual({ isAccepted: false, reason: 'body_too_large', httpStatus: 413 })
    expect(isSamlBodyTooLarge(MAX + 1, MAX)).toBe(true)
    expect(isSamlBodyTooLarge(null, MAX)).toBe(false)
  })

  it('a missing, non-base64 or non-UTF-8 SAMLResponse is refused', () => {
    expect(preparseSamlResponse(undefined, { maxBytes: MAX })).toMatchObject({ reason: 'missing_saml_response', httpStatus: 400 })
    expect(preparseSamlResponse('<samlp:Response/>', { maxBytes: MAX })).toMatchObject({ reason: 'not_base64' })
    expect(preparseSamlResponse('abc', { maxBytes: MAX })).toMatchObject({ reason: 'not_base64' })
    expect(preparseSamlResponse(Buffer.from([0x3c, 0xff, 0xfe, 0x3e]).toString('base64'), { maxBytes: MAX })).toMatchObject({ reason: 'not_utf8' })
  })

  it.each(['internal_entity', 'external_system_entity', 'remote_dtd'] as const)('a DOCTYPE (%s) is refused before any parser runs', (doctype) => {
    expect(reasonFor({ doctype })).toBe('doctype')
  })

  it('a DOCTYPE in another case or with whitespace is refused too', () => {
    const xml = buildSamlTestResponse(base).xml
    for (const prefix of ['<!doctype r>', '<! DOCTYPE r>', '<!DocType r SYSTEM "http://127.0.0.1:9/x">']) {
      expect(preparseSamlResponse(Buffer.from(prefix + xml).toString('base64'), { maxBytes: MAX })).toMatchObject({ reason: 'doctype' })
    }
  })

  it('an EncryptedAssertion is refused (unsupported)', () => {
    expect(reasonFor({ encryptedAssertion: true })).toBe('encrypted_assertion')
  })

  it('a SHA-1 signature or a SHA-1 digest is refused', () => {
    expect(reasonFor({ signatureAlgorithm: 'sha1' })).toBe('sha1_algorithm')
    expect(reasonFor({ digestAlgorithm: 'sha1' })).toBe('sha1_algorithm')
    expect(reasonFor({ signResponse: false, digestAlgorithm: 'sha1' })).toBe('sha1_algorithm')
  })

  it('an algorithm spelled with character references is refused', () => {
    const xml = buildSamlTestResponse(base).xml.replace('xmldsig-more#rsa-sha256', 'xmldsig#rsa-&#x73;ha1')
    expect(preparseSamlResponse(Buffer.from(xml).toString('base64'), { maxBytes: MAX })).toMatchObject({ reason: 'encoded_algorithm' })
  })
})
