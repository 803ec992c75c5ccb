/**
 * The node-saml instance per connection (issue 10, item 2): the AuthnRequest carries the flow's
 * request id, no RequestedAuthnContext, ForceAuthn only for step-up; unsafe settings are refused.
 */
import type { CacheProvider } from '@node-saml/node-saml'
import { describe, expect, it } from 'vitest'
import { parseRedirectAuthnRequest } from '../../../../scripts/idp/saml-idp'
import { createSamlTestKeys } from '../../../../test/support/saml-responses'
import { buildSaml, generateSamlRequestId, SamlConfigurationError, type SamlConnectionSettings } from './saml-config'
import { inflateRawSync } from 'node:zlib'

const keys = createSamlTestKeys('config')
const connection: SamlConnectionSettings = {
  id: 'conn1',
  protocol: 'saml',
  samlIdpEntityId: 'https://idp.globex.test',
  samlIdpSsoUrl: 'https://idp.globex.test/sso',
  samlIdpCertificates: [keys.certificatePem],
  samlNameIdFormat: null,
  samlWantAssertionsSigned: true,
  samlWantAuthnResponseSigned: true,
  samlIsIdpInitiatedAllowed: false,
}

function memoryCache(): CacheProvider & { saved: string[] } {
  const saved: string[] = []
  return {
    saved,
    saveAsync: async (key, value) => {
      saved.push(key)
      return { value, createdAt: Date.now() }
    },
    getAsync: async () => null,
    removeAsync: async (key) => key,
  }
}

async function authnRequestOf(options: { isForceAuthn?: boolean } = {}) {
  const cacheProvider = memoryCache()
  const requestId = generateSamlRequestId()
  const saml = buildSaml(connection, { appUrl: 'http://localhost:3000', cacheProvider, requestId, ...options })
  const url = new URL(await saml.getAuthorizeUrlAsync('', undefined, {}))
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8')
  return { url, xml, requestId, cacheProvider, parsed: parseRedirectAuthnRequest(url.searchParams.get('SAMLRequest')!) }
}

describe('buildSaml', () => {
  it('makes an HTTP-Redirect AuthnRequest with the flow request id, our ACS and entity ID, and no RequestedAuthnContext', async () => {
    const { url, xml, requestId, cacheProvider, parsed } = await authnRequestOf()
    expect(requestId).toMatch(/^_[0-9a-f]{40}$/)
    expect(`${url.origin}${url.pathname}`).toBe('https://idp.globex.test/sso')
    expect(parsed).toMatchObject({ id: requestId, acsUrl: 'http://localhost:3000/api/auth/saml/conn1/acs', spEntityId: 'http://localhost:3000/api/auth/saml/conn1/metadata', isForceAuthn: false })
    expect(cacheProvider.saved).toEqual([requestId])
    expect(xml).not.toContain('RequestedAuthnContext')
    expect(xml).toContain('Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"')
    expect(url.searchParams.has('Signature')).toBe(false)
  })

  it('asks for ForceAuthn only for step-up', async () => {
    expect((await authnRequestOf({ isForceAuthn: true })).parsed.isForceAuthn).toBe(true)
  })

  it('refuses to build an AuthnRequest without the flow request id', async () => {
    const saml = buildSaml(connection, { appUrl: 'http://localhost:3000', cacheProvider: memoryCache() })
    await expect(saml.getAuthorizeUrlAsync('', undefined, {})).rejects.toThrow(SamlConfigurationError)
  })

  it('refuses unsafe or incomplete settings (signature stripping, IdP-initiated when off, OIDC)', () => {
    const build = (overrides: Partial<SamlConnectionSettings>, options: { isIdpInitiated?: boolean } = {}) => () =>
      buildSaml({ ...connection, ...overrides }, { appUrl: 'http://localhost:3000', cacheProvider: memoryCache(), ...options })
    expect(build({ samlWantAssertionsSigned: false, samlWantAuthnResponseSigned: false })).toThrow(SamlConfigurationError)
    expect(build({}, { isIdpInitiated: true })).toThrow(/IdP-initiated/)
    expect(build({ samlIsIdpInitiatedAllowed: true }, { isIdpInitiated: true })).not.toThrow()
    expect(build({ samlIdpCertificates: [] })).toThrow(SamlConfigurationError)
    expect(build({ protocol: 'oidc' })).toThrow(SamlConfigurationError)
    expect(build({ samlWantAssertionsSigned: false })).not.toThrow()
  })
})
