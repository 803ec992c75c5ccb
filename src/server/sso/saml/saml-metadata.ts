/**
 * Server-only: SAML metadata both ways (issue 10, item 1; SAML Metadata 2.0).
 *
 * - The SP side: one entity per connection. Its entity ID *is* its metadata URL, the ACS takes the
 *   HTTP-POST binding, assertions must be signed, requests are not (no SP key in this issue).
 * - The IdP side: an uploaded or fetched metadata document, parsed by @xmldom/xmldom 0.8 with any
 *   DTD refused (text check before parsing, `doctype` check after): metadata comes from an admin
 *   or a URL, and a DTD is the door to entity expansion and external fetches (XXE, OWASP).
 *   Only what the app needs is taken: entity ID, HTTP-Redirect SSO URL, signing certificates.
 */
import { generateServiceProviderMetadata } from '@node-saml/node-saml'
import { DOMParser } from '@xmldom/xmldom'
import type { SamlNameIdFormat } from '../../../../db/schema'
import { normalizeCertificatePem, SamlCertificateError } from './saml-certificates'
import { SAML_NAMEID_FORMATS } from './saml-attributes'

const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata'
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#'
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
export const SAML_BINDING_HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'
export const SAML_BINDING_HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'

/** Larger than any real IdP metadata document (federation aggregates are not supported). */
export const MAX_IDP_METADATA_BYTES = 1024 * 1024

/** The SP's URLs for one connection; the entity ID is the metadata URL (a common, resolvable choice). */
export type SamlServiceProviderUrls = { entityId: string; metadataUrl: string; acsUrl: string; completeUrl: string }

/** Builds the SP URLs of a connection from the app's public origin (`env.appUrl`). */
export function getSamlServiceProviderUrls(appUrl: URL | string, connectionId: string): SamlServiceProviderUrls {
  const base = `${new URL(appUrl).origin}/api/auth/saml/${encodeURIComponent(connectionId)}`
  return { entityId: `${base}/metadata`, metadataUrl: `${base}/metadata`, acsUrl: `${base}/acs`, completeUrl: `${base}/complete` }
}

/**
 * The SP metadata XML of a connection: ACS with HTTP-POST, `WantAssertionsSigned="true"` (a request
 * to the IdP, whatever the connection tolerates), `AuthnRequestsSigned="false"`, the NameID format.
 */
export function buildSamlServiceProviderMetadata(input: { appUrl: URL | string; connectionId: string; nameIdFormat: SamlNameIdFormat | null }): string {
  const urls = getSamlServiceProviderUrls(input.appUrl, input.connectionId)
  return generateServiceProviderMetadata({
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    identifierFormat: input.nameIdFormat ?? SAML_NAMEID_FORMATS.persistent,
    wantAssertionsSigned: true,
  })
}

export type SamlMetadataErrorReason = 'too_large' | 'dtd_refused' | 'not_xml' | 'no_idp' | 'unknown_entity' | 'no_redirect_sso' | 'no_signing_certificate'

export class SamlMetadataError extends Error {
  override name = 'SamlMetadataError'
  constructor(
    readonly reason: SamlMetadataErrorReason,
    message: string,
  ) {
    super(message)
  }
}

/** One IdP as its metadata describes it. */
export type SamlIdpDescription = {
  entityId: string
  /** `SingleSignOnService` with the HTTP-Redirect binding; null when it offers none. */
  ssoUrl: string | null
  /** PEM of every `KeyDescriptor` whose `use` is `signing` or absent. */
  signingCertificates: string[]
  nameIdFormats: string[]
  /** The IdP demands signed AuthnRequests, which this app does not send (the console warns). */
  wantsAuthnRequestsSigned: boolean
}

export type SamlIdpMetadataImport =
  | { status: 'selected'; idp: SamlIdpDescription }
  /** Several IdPs in one document and none chosen: the admin picks an entity ID. */
  | { status: 'choose_entity'; entityIds: string[] }

function parseMetadataDocument(xml: string): Document {
  if (Buffer.byteLength(xml, 'utf8') > MAX_IDP_METADATA_BYTES) throw new SamlMetadataError('too_large', `metadata is larger than ${MAX_IDP_METADATA_BYTES} bytes`)
  if (/<!\s*(?:DOCTYPE|ENTITY)/i.test(xml)) throw new SamlMetadataError('dtd_refused', 'metadata with a DTD is refused')
  const problems: string[] = []
  const doc = new DOMParser({
    errorHandler: { warning: () => undefined, error: (message) => problems.push(message), fatalError: (message) => problems.push(message) },
  }).parseFromString(xml, 'text/xml') as unknown as Document
  if (problems.length > 0 || !doc?.documentElement) throw new SamlMetadataError('not_xml', 'metadata is not well-formed XML')
  if (doc.doctype) throw new SamlMetadataError('dtd_refused', 'metadata with a DTD is refused')
  return doc
}

function childrenNS(parent: Element, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(MD_NS, localName) as unknown as ArrayLike<Element>)
}

function describeIdp(entity: Element, idp: Element): SamlIdpDescription {
  const entityId = entity.getAttribute('entityID') ?? ''
  const ssoUrl = childrenNS(idp, 'SingleSignOnService').find((service) => service.getAttribute('Binding') === SAML_BINDING_HTTP_REDIRECT)?.getAttribute('Location') ?? null
  const certificates = new Set<string>()
  for (const key of childrenNS(idp, 'KeyDescriptor')) {
    const use = key.getAttribute('use')
    if (use && use !== 'signing') continue
    for (const node of Array.from(key.getElementsByTagNameNS(DS_NS, 'X509Certificate') as unknown as ArrayLike<Element>)) {
      try {
        certificates.add(normalizeCertificatePem(node.textContent ?? ''))
      } catch (error) {
        if (!(error instanceof SamlCertificateError)) throw error
      }
    }
  }
  return {
    entityId,
    ssoUrl: ssoUrl?.trim() || null,
    signingCertificates: [...certificates],
    nameIdFormats: childrenNS(idp, 'NameIDFormat').map((node) => (node.textContent ?? '').trim()).filter(Boolean),
    wantsAuthnRequestsSigned: idp.getAttribute('WantAuthnRequestsSigned') === 'true',
  }
}

/** Every IdP (`EntityDescriptor` with a SAML 2.0 `IDPSSODescriptor`) in a metadata document. */
export function listSamlIdpEntities(xml: string): SamlIdpDescription[] {
  const doc = parseMetadataDocument(xml)
  const entities = Array.from(doc.getElementsByTagNameNS(MD_NS, 'EntityDescriptor') as unknown as ArrayLike<Element>)
  const idps: SamlIdpDescription[] = []
  for (const entity of entities) {
    const descriptor = childrenNS(entity, 'IDPSSODescriptor').find((node) => (node.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL))
    if (descriptor && entity.getAttribute('entityID')) idps.push(describeIdp(entity, descriptor))
  }
  return idps
}

/**
 * Imports IdP settings from metadata XML. With several IdPs and no `entityId`, answers
 * `choose_entity` with their entity IDs. The chosen IdP must offer an HTTP-Redirect SSO URL and at
 * least one signing certificate. Throws `SamlMetadataError`.
 */
export function importSamlIdpMetadata(xml: string, options: { entityId?: string } = {}): SamlIdpMetadataImport {
  const idps = listSamlIdpEntities(xml)
  if (idps.length === 0) throw new SamlMetadataError('no_idp', 'the metadata describes no SAML 2.0 identity provider')
  let idp: SamlIdpDescription | undefined
  if (options.entityId !== undefined) {
    idp = idps.find((candidate) => candidate.entityId === options.entityId)
    if (!idp) throw new SamlMetadataError('unknown_entity', 'the metadata has no identity provider with that entity ID')
  } else if (idps.length > 1) {
    return { status: 'choose_entity', entityIds: idps.map((candidate) => candidate.entityId) }
  } else {
    idp = idps[0]!
  }
  if (!idp.ssoUrl) throw new SamlMetadataError('no_redirect_sso', 'the identity provider offers no HTTP-Redirect SingleSignOnService')
  if (idp.signingCertificates.length === 0) throw new SamlMetadataError('no_signing_certificate', 'the identity provider publishes no signing certificate')
  return { status: 'selected', idp }
}
