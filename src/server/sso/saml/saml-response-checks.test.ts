/**
 * The checks node-saml 5.1.0 does not make (issue 10, item 3): a response for another SP or
 * connection (Destination, Recipient) or from another IdP (Issuer) that node-saml accepted is
 * refused here; node-saml's messages become stable reason codes.
 */
import { SamlStatusError, type CacheProvider } from '@node-saml/node-saml'
import { describe, expect, it } from 'vitest'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../../../../test/support/saml-responses'
import { buildSaml, type SamlConnectionSettings } from './saml-config'
import { getSamlServiceProviderUrls } from './saml-metadata'
import { checkSamlResponseAddressing, classifySamlValidationError, getSamlResponseFailureStatus } from './saml-response-checks'

const keys = createSamlTestKeys('checks')
const IDP = 'https://idp.globex.test/metadata'
const urls = getSamlServiceProviderUrls('http://localhost:3000', 'conn1')
const connection: SamlConnectionSettings = {
  id: 'conn1',
  protocol: 'saml',
  samlIdpEntityId: IDP,
  samlIdpSsoUrl: 'https://idp.globex.test/sso',
  samlIdpCertificates: [keys.certificatePem],
  samlNameIdFormat: null,
  samlWantAssertionsSigned: true,
  samlWantAuthnResponseSigned: true,
  samlIsIdpInitiatedAllowed: true,
}
const noCache: CacheProvider = { saveAsync: async () => null, getAsync: async () => null, removeAsync: async () => null }

/** node-saml accepts these (unsolicited mode, no DB needed); the addressing check decides. */
async function addressingFailures(options: Partial<SamlTestResponseOptions>) {
  const built = buildSamlTestResponse({ keys, idpEntityId: IDP, spEntityId: urls.entityId, acsUrl: urls.acsUrl, inResponseTo: null, ...options })
  const { profile } = await buildSaml(connection, { appUrl: 'http://localhost:3000', cacheProvider: noCache, isIdpInitiated: true }).validatePostResponseAsync({ SAMLResponse: built.base64 })
  return checkSamlResponseAddressing(profile!, { idpEntityId: IDP, acsUrl: urls.acsUrl }).map((failure) => failure.reason)
}

describe('checkSamlResponseAddressing', () => {
  it('passes a response addressed to this connection by its IdP', async () => {
    expect(await addressingFailures({})).toEqual([])
    expect(await addressingFailures({ responseIssuer: null })).toEqual([])
  })

  it('refuses a wrong assertion Issuer or Response Issuer', async () => {
    expect(await addressingFailures({ assertionIssuer: 'https://evil.test' })).toEqual(['assertion_issuer_mismatch'])
    expect(await addressingFailures({ responseIssuer: 'https://evil.test' })).toEqual(['response_issuer_mismatch'])
  })

  it('refuses a wrong or missing Destination (a response minted for another SP or connection)', async () => {
    expect(await addressingFailures({ destination: getSamlServiceProviderUrls('http://localhost:3000', 'conn2').acsUrl })).toEqual(['destination_mismatch'])
    expect(await addressingFailures({ destination: null })).toEqual(['destination_missing'])
  })

  it('refuses a wrong or missing Recipient', async () => {
    expect(await addressingFailures({ recipient: 'https://evil.test/acs' })).toEqual(['recipient_mismatch'])
    expect(await addressingFailures({ recipient: null })).toEqual(['recipient_mismatch'])
  })
})

describe('getSamlResponseFailureStatus', () => {
  const profileOf = async (options: Partial<SamlTestResponseOptions>) => {
    const built = buildSamlTestResponse({ keys, idpEntityId: IDP, spEntityId: urls.entityId, acsUrl: urls.acsUrl, inResponseTo: null, ...options })
    return (await buildSaml(connection, { appUrl: 'http://localhost:3000', cacheProvider: noCache, isIdpInitiated: true }).validatePostResponseAsync({ SAMLResponse: built.base64 })).profile!
  }

  it('passes Success', async () => {
    expect(getSamlResponseFailureStatus(await profileOf({}))).toBeNull()
  })

  it('refuses a signed error response that still carries a valid assertion (node-saml 5.1.0 accepts it)', async () => {
    const profile = await profileOf({ statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder', subStatusCode: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed', hasAssertion: true })
    expect(profile).not.toBeNull()
    expect(getSamlResponseFailureStatus(profile)).toBe('urn:oasis:names:tc:SAML:2.0:status:Responder')
  })

  it('treats a profile without the Response XML as not Success', () => {
    expect(getSamlResponseFailureStatus({})).toBe('missing')
  })
})

describe('classifySamlValidationError', () => {
  it("maps node-saml's messages to stable reasons and keeps only the top-level IdP status", () => {
    expect(classifySamlValidationError(new Error('Invalid document signature'))).toEqual({ reason: 'signature' })
    expect(classifySamlValidationError(new Error('Invalid signature: multiple assertions'))).toEqual({ reason: 'signature' })
    expect(classifySamlValidationError(new Error('InResponseTo is not valid'))).toEqual({ reason: 'in_response_to' })
    expect(classifySamlValidationError(new Error('No valid subject confirmation found among those available in the SAML assertion'))).toEqual({ reason: 'times' })
    expect(classifySamlValidationError(new Error('SAML assertion audience mismatch. Expected: a Received: b'))).toEqual({ reason: 'audience' })
    const status = new SamlStatusError('SAML provider returned Responder error: AuthnFailed', '<Status><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></StatusCode></Status>')
    expect(classifySamlValidationError(status)).toEqual({ reason: 'idp_status', statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder' })
    expect(classifySamlValidationError(new Error('something new'))).toEqual({ reason: 'invalid_response' })
  })
})
