/**
 * SAML metadata (issue 10, item 1): the SP metadata a connection publishes, and IdP metadata
 * import with DTDs refused (XXE / entity expansion through an admin-supplied document).
 */
import { DOMParser } from '@xmldom/xmldom'
import { describe, expect, it } from 'vitest'
import { createSamlTestKeys } from '../../../../test/support/saml-responses'
import { buildSamlServiceProviderMetadata, getSamlServiceProviderUrls, importSamlIdpMetadata, listSamlIdpEntities, SamlMetadataError } from './saml-metadata'

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata'
const bare = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '')

function idpEntity(entityId: string, options: { certificates: string[]; redirect?: boolean; use?: string | null; protocol?: string }): string {
  const keys = options.certificates
    .map((pem) => `<md:KeyDescriptor${options.use === null ? '' : ` use="${options.use ?? 'signing'}"`}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n${bare(pem)}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
    .join('')
  const sso = [
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${entityId}/sso/post"/>`,
    options.redirect === false ? '' : `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${entityId}/sso/redirect"/>`,
  ].join('')
  return (
    `<md:EntityDescriptor xmlns:md="${MD}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="${options.protocol ?? 'urn:oasis:names:tc:SAML:2.0:protocol'}">${keys}` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>${sso}</md:IDPSSODescriptor></md:EntityDescriptor>`
  )
}

function reasonOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (error instanceof SamlMetadataError) return error.reason
    throw error
  }
  throw new Error('expected a SamlMetadataError')
}

describe('SP metadata', () => {
  it('derives entity ID, metadata, ACS and completion URLs from APP_URL and the connection', () => {
    expect(getSamlServiceProviderUrls(new URL('https://auth.example.com'), 'conn1')).toEqual({
      entityId: 'https://auth.example.com/api/auth/saml/conn1/metadata',
      metadataUrl: 'https://auth.example.com/api/auth/saml/conn1/metadata',
      acsUrl: 'https://auth.example.com/api/auth/saml/conn1/acs',
      completeUrl: 'https://auth.example.com/api/auth/saml/conn1/complete',
    })
  })

  it('declares the ACS (HTTP-POST), signed assertions, unsigned requests and the NameID format', () => {
    const xml = buildSamlServiceProviderMetadata({ appUrl: 'https://auth.example.com', connectionId: 'conn1', nameIdFormat: null })
    const doc = new DOMParser().parseFromString(xml, 'text/xml')
    const root = doc.documentElement!
    expect(root.getAttribute('entityID')).toBe('https://auth.example.com/api/auth/saml/conn1/metadata')
    const sp = root.getElementsByTagNameNS(MD, 'SPSSODescriptor')[0]!
    expect(sp.getAttribute('WantAssertionsSigned')).toBe('true')
    expect(sp.getAttribute('AuthnRequestsSigned')).toBe('false')
    expect(sp.getElementsByTagNameNS(MD, 'NameIDFormat')[0]!.textContent).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent')
    const acs = sp.getElementsByTagNameNS(MD, 'AssertionConsumerService')[0]!
    expect(acs.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST')
    expect(acs.getAttribute('Location')).toBe('https://auth.example.com/api/auth/saml/conn1/acs')
    expect(sp.getElementsByTagNameNS(MD, 'SingleLogoutService')).toHaveLength(0)
  })
})

describe('IdP metadata import', () => {
  const current = createSamlTestKeys('metadata-current')
  const next = createSamlTestKeys('metadata-next')

  it('extracts the entity ID, the HTTP-Redirect SSO URL and every signing certificate', () => {
    const result = importSamlIdpMetadata(idpEntity('https://idp.globex.test', { certificates: [current.certificatePem, next.certificatePem] }))
    expect(result).toMatchObject({ status: 'selected', idp: { entityId: 'https://idp.globex.test', ssoUrl: 'https://idp.globex.test/sso/redirect', wantsAuthnRequestsSigned: false } })
    if (result.status !== 'selected') throw new Error('unreachable')
    expect(result.idp.signingCertificates.map(bare)).toEqual([bare(current.certificatePem), bare(next.certificatePem)])
  })

  it('takes keys without a `use` and skips encryption-only keys', () => {
    expect(listSamlIdpEntities(idpEntity('https://a.test', { certificates: [current.certificatePem], use: null }))[0]!.signingCertificates).toHaveLength(1)
    expect(reasonOf(() => importSamlIdpMetadata(idpEntity('https://a.test', { certificates: [current.certificatePem], use: 'encryption' })))).toBe('no_signing_certificate')
  })

  it('asks the admin to choose when a document holds several IdPs, then imports the chosen one', () => {
    const aggregate = `<md:EntitiesDescriptor xmlns:md="${MD}">${idpEntity('https://a.test', { certificates: [current.certificatePem] })}${idpEntity('https://b.test', { certificates: [next.certificatePem] })}</md:EntitiesDescriptor>`
    expect(importSamlIdpMetadata(aggregate)).toEqual({ status: 'choose_entity', entityIds: ['https://a.test', 'https://b.test'] })
    expect(importSamlIdpMetadata(aggregate, { entityId: 'https://b.test' })).toMatchObject({ status: 'selected', idp: { entityId: 'https://b.test', ssoUrl: 'https://b.test/sso/redirect' } })
    expect(reasonOf(() => importSamlIdpMetadata(aggregate, { entityId: 'https://c.test' }))).toBe('unknown_entity')
  })

  it('refuses an IdP without an HTTP-Redirect SSO URL, and documents without a SAML 2.0 IdP', () => {
    expect(reasonOf(() => importSamlIdpMetadata(idpEntity('https://a.test', { certificates: [current.certificatePem], redirect: false })))).toBe('no_redirect_sso')
    expect(reasonOf(() => importSamlIdpMetadata(idpEntity('https://a.test', { certificates: [current.certificatePem], protocol: 'urn:oasis:names:tc:SAML:1.1:protocol' })))).toBe('no_idp')
    expect(reasonOf(() => importSamlIdpMetadata('<html>nope</html>'))).toBe('no_idp')
  })

  it('refuses metadata with a DTD (entity expansion, external entities, remote DTD) and malformed XML', () => {
    const entity = idpEntity('https://a.test', { certificates: [current.certificatePem] })
    for (const doctype of ['<!DOCTYPE md [<!ENTITY a "aaaa">]>', '<!DOCTYPE md [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', '<!doctype md SYSTEM "http://127.0.0.1:9/x.dtd">']) {
      expect(reasonOf(() => importSamlIdpMetadata(`<?xml version="1.0"?>${doctype}${entity}`))).toBe('dtd_refused')
    }
    expect(reasonOf(() => importSamlIdpMetadata('<md:EntityDescriptor xmlns:md="urn:x"><unclosed>'))).toBe('not_xml')
    expect(reasonOf(() => importSamlIdpMetadata(`${entity}${' '.repeat(1024 * 1024)}`))).toBe('too_large')
  })
})
