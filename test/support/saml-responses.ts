/**
 * Hand-built SAML Responses for tests, signed with xml-crypto 6.3.2 (~5 ms each), with a knob for
 * every hostile case of issue 10 ("Done means", saml-acs-hostile). Each knob names the attack; the
 * defaults build a good response signed on both the Response and the Assertion. Pure: no app, no
 * database; validate the output with node-saml directly or post it to the ACS.
 *
 * Post-signing knobs (wrapping, alteration, DigestValue comments, two SignedInfo, DOCTYPE) run
 * after both signatures, like an attacker holding one legitimately signed response. A wrapped
 * response whose Response signature is kept is refused for that reason alone; to test the
 * assertion-level defence, build it with `signResponse: false`.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DOMParser, XMLSerializer } from '@xmldom/xmldom'
import {
  AUTHN_CONTEXT_PASSWORD_PROTECTED,
  buildAssertionXml,
  buildResponseXml,
  generateSamlId,
  loadOrCreateSamlSigningKeys,
  SAML_NS,
  SAML_STATUS_SUCCESS,
  signSamlXml,
  type SamlSigningKeys,
} from '../../scripts/idp/saml-response-xml'

export type { SamlSigningKeys }

let keyDir: string | null = null
const keyCache = new Map<string, SamlSigningKeys>()

/** An RSA key and self-signed certificate made by openssl in a per-process temp dir (cached by name). */
export function createSamlTestKeys(name = 'idp', options: { bits?: number; days?: number; commonName?: string } = {}): SamlSigningKeys {
  const cacheKey = `${name}:${options.bits ?? 2048}:${options.days ?? 3650}`
  const cached = keyCache.get(cacheKey)
  if (cached) return cached
  keyDir ??= mkdtempSync(join(tmpdir(), 'gatehouse-saml-keys-'))
  const keys = loadOrCreateSamlSigningKeys(keyDir, { name: `${name}-${options.bits ?? 2048}-${options.days ?? 3650}`, bits: options.bits, days: options.days, commonName: options.commonName ?? `test ${name}` })
  keyCache.set(cacheKey, keys)
  return keys
}

export type SamlWrapping =
  /** An unsigned evil assertion placed before the signed one (XSW: "first assertion wins"). */
  | 'evil_before'
  /** … after the signed one. */
  | 'evil_after'
  /** The signed assertion moved inside the evil one, which takes its place. */
  | 'signed_nested_in_evil'
  /** The signed assertion moved into `samlp:Extensions`; the evil one takes its place. */
  | 'signed_in_extensions'
  /** The signed assertion moved into a `ds:Object` of the evil one's (copied) signature. */
  | 'signed_in_object'
  /** The evil assertion takes the signed one's ID (the signed one goes into Extensions). */
  | 'duplicate_id'

export type SamlDoctype =
  /** Internal entities, expanded ("billion laughs"). */
  | 'internal_entity'
  /** An external SYSTEM entity referenced from the NameID (XXE, SSRF). */
  | 'external_system_entity'
  /** A remote DTD (`<!DOCTYPE … SYSTEM "http://…">`). */
  | 'remote_dtd'

export type SamlTestResponseOptions = {
  /** The IdP's key (its certificate is the one the connection trusts). */
  keys: SamlSigningKeys
  idpEntityId: string
  spEntityId: string
  acsUrl: string
  inResponseTo?: string | null
  nameId?: string
  nameIdFormat?: string
  attributes?: Record<string, string | string[]>
  /** The moment the IdP "answers" (default now); every other time derives from it. */
  now?: Date
  issueInstant?: Date
  notBefore?: Date
  notOnOrAfter?: Date
  subjectNotOnOrAfter?: Date
  authnInstant?: Date
  authnContextClassRef?: string
  /** null leaves AudienceRestriction out. Default: the SP entity ID. */
  audience?: string | null
  /** null leaves Destination out. Default: the ACS URL. */
  destination?: string | null
  /** null leaves Recipient out. Default: the ACS URL. */
  recipient?: string | null
  /** Default: the IdP entity ID. */
  assertionIssuer?: string
  /** null leaves the Response's Issuer out. Default: the IdP entity ID. */
  responseIssuer?: string | null
  /** Default true. */
  signResponse?: boolean
  /** Default true. */
  signAssertion?: boolean
  /** Sign with another key (its certificate goes into KeyInfo, as xml-crypto always does). */
  signingKeys?: SamlSigningKeys
  signatureAlgorithm?: 'sha256' | 'sha1'
  digestAlgorithm?: 'sha256' | 'sha1'
  /** Default Success; any other makes an error response. */
  statusCode?: string
  subStatusCode?: string
  statusMessage?: string
  /** Error responses usually carry no assertion (default: none unless Success). */
  hasAssertion?: boolean
  /** Insert `<!---->` at this index of the NameID before signing (CVE-2017-11428: truncated NameID). */
  commentInNameIdAt?: number
  /** Insert `<!---->` at this index of the `email` attribute's value before signing. */
  commentInEmailAt?: number
  /** Change the signed content afterwards (the signature no longer matches). */
  alterAfterSigning?: { nameId?: string; attribute?: { name: string; value: string } }
  wrapping?: SamlWrapping
  /** The NameID (and email) of the evil assertion of a wrapping. */
  evilNameId?: string
  /** CVE-2025-29775 shape: NameID altered, DigestValue = `<!--digest of altered-->original digest`. */
  commentInDigestValue?: boolean
  /** CVE-2025-29774 shape: NameID altered and a second SignedInfo carrying its digest. */
  twoSignedInfo?: boolean
  /** Replace the assertion with an `EncryptedAssertion` (unsupported; refused before parsing). */
  encryptedAssertion?: boolean
  doctype?: SamlDoctype
}

export type SamlTestResponse = { xml: string; base64: string; responseId: string; assertionId: string }

const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'

function withComment(text: string, at: number): string {
  const escaped = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return `${escaped(text.slice(0, at))}<!---->${escaped(text.slice(at))}`
}

function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document
}

function serialize(doc: Document): string {
  return new XMLSerializer().serializeToString(doc as never)
}

function childElements(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1 && (node as Element).localName === localName && (node as Element).namespaceURI === ns)
}

function firstDescendant(parent: Element | Document, ns: string, localName: string): Element | null {
  return (parent.getElementsByTagNameNS(ns, localName)[0] as Element | undefined) ?? null
}

function setText(element: Element, text: string): void {
  while (element.firstChild) element.removeChild(element.firstChild)
  element.appendChild(element.ownerDocument!.createTextNode(text))
}

/** Rewrites the NameID and any email-like attribute value of an assertion element. */
function rewriteIdentity(assertion: Element, nameId: string): void {
  const nameIdElement = firstDescendant(assertion, SAML_NS.assertion, 'NameID')
  if (nameIdElement) setText(nameIdElement, nameId)
  for (const attribute of Array.from(assertion.getElementsByTagNameNS(SAML_NS.assertion, 'Attribute'))) {
    if (!/mail/i.test((attribute as Element).getAttribute('Name') ?? '')) continue
    for (const value of Array.from((attribute as Element).getElementsByTagNameNS(SAML_NS.assertion, 'AttributeValue'))) setText(value as Element, nameId)
  }
}

function rewriteAttribute(root: Element, name: string, value: string): void {
  for (const attribute of Array.from(root.getElementsByTagNameNS(SAML_NS.assertion, 'Attribute'))) {
    if ((attribute as Element).getAttribute('Name') !== name) continue
    for (const node of Array.from((attribute as Element).getElementsByTagNameNS(SAML_NS.assertion, 'AttributeValue'))) setText(node as Element, value)
  }
}

/** The digest (sha256 or sha1, as the signature used) of an assertion after it was altered, computed by signing a copy. */
function digestOfAltered(assertion: Element, options: SamlTestResponseOptions): string {
  const copy = assertion.cloneNode(true) as Element
  for (const signature of childElements(copy, SAML_NS.dsig, 'Signature')) copy.removeChild(signature)
  const resigned = signSamlXml(new XMLSerializer().serializeToString(copy as never), { keys: options.keys, element: 'Assertion', digestAlgorithm: options.digestAlgorithm, signatureAlgorithm: options.signatureAlgorithm })
  return /<ds:DigestValue>([^<]+)<\/ds:DigestValue>/.exec(resigned)![1]!
}

const DOCTYPES: Record<SamlDoctype, string> = {
  internal_entity:
    '<!DOCTYPE samlp:Response [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
  external_system_entity: '<!DOCTYPE samlp:Response [<!ENTITY ext SYSTEM "http://127.0.0.1:9/saml-xxe">]>',
  remote_dtd: '<!DOCTYPE samlp:Response SYSTEM "http://127.0.0.1:9/saml.dtd">',
}

/** Builds (and signs) a SAML Response with the given knobs; see `SamlTestResponseOptions`. */
export function buildSamlTestResponse(options: SamlTestResponseOptions): SamlTestResponse {
  const now = options.now ?? new Date()
  const inFiveMinutes = new Date(now.getTime() + 5 * 60_000)
  const statusCode = options.statusCode ?? SAML_STATUS_SUCCESS
  const hasAssertion = options.hasAssertion ?? statusCode === SAML_STATUS_SUCCESS
  const signingKeys = options.signingKeys ?? options.keys
  const sign = { keys: signingKeys, signatureAlgorithm: options.signatureAlgorithm, digestAlgorithm: options.digestAlgorithm }
  const nameId = options.nameId ?? 'saml-subject-alice'
  const attributes = options.attributes ?? { email: 'alice@globex.test', displayName: 'Alice Globex', groups: ['globex-admins', 'staff'] }
  const responseId = generateSamlId()
  const assertionId = generateSamlId()

  let assertionXml = ''
  if (hasAssertion) {
    const emailValue = typeof attributes.email === 'string' ? attributes.email : undefined
    assertionXml = buildAssertionXml({
      issuer: options.assertionIssuer ?? options.idpEntityId,
      audience: options.audience === undefined ? options.spEntityId : options.audience,
      recipient: options.recipient === undefined ? options.acsUrl : options.recipient,
      inResponseTo: options.inResponseTo ?? null,
      nameId,
      nameIdFormat: options.nameIdFormat ?? (nameId.includes('@') ? EMAIL_FORMAT : PERSISTENT),
      nameIdXml: options.commentInNameIdAt !== undefined ? withComment(nameId, options.commentInNameIdAt) : undefined,
      attributes,
      attributeXml: options.commentInEmailAt !== undefined && emailValue ? { email: withComment(emailValue, options.commentInEmailAt) } : undefined,
      assertionId,
      issueInstant: options.issueInstant ?? now,
      notBefore: options.notBefore ?? new Date(now.getTime() - 5_000),
      notOnOrAfter: options.notOnOrAfter ?? inFiveMinutes,
      subjectNotOnOrAfter: options.subjectNotOnOrAfter ?? options.notOnOrAfter ?? inFiveMinutes,
      authnInstant: options.authnInstant ?? now,
      authnContextClassRef: options.authnContextClassRef ?? AUTHN_CONTEXT_PASSWORD_PROTECTED,
    })
    if (options.signAssertion ?? true) assertionXml = signSamlXml(assertionXml, { ...sign, element: 'Assertion' })
  }
  let xml = buildResponseXml(
    {
      responseId,
      issueInstant: options.issueInstant ?? now,
      destination: options.destination === undefined ? options.acsUrl : options.destination,
      inResponseTo: options.inResponseTo ?? null,
      issuer: options.responseIssuer === undefined ? options.idpEntityId : options.responseIssuer,
      statusCode,
      subStatusCode: options.subStatusCode,
      statusMessage: options.statusMessage,
    },
    assertionXml,
  )
  if (options.signResponse ?? true) xml = signSamlXml(xml, { ...sign, element: 'Response' })

  if (options.alterAfterSigning || options.wrapping || options.commentInDigestValue || options.twoSignedInfo || options.encryptedAssertion) {
    xml = postProcess(xml, options)
  }
  if (options.doctype) {
    xml = DOCTYPES[options.doctype] + (options.doctype === 'external_system_entity' ? xml.replace(/(<saml:NameID[^>]*>)/, '$1&ext;') : options.doctype === 'internal_entity' ? xml.replace(/(<saml:NameID[^>]*>)/, '$1&d;') : xml)
  }
  return { xml, base64: Buffer.from(xml, 'utf8').toString('base64'), responseId, assertionId }
}

function postProcess(xml: string, options: SamlTestResponseOptions): string {
  const doc = parse(xml)
  const response = doc.documentElement as unknown as Element
  const signed = childElements(response, SAML_NS.assertion, 'Assertion')[0]

  if (options.alterAfterSigning?.nameId !== undefined && signed) {
    const nameIdElement = firstDescendant(signed, SAML_NS.assertion, 'NameID')
    if (nameIdElement) setText(nameIdElement, options.alterAfterSigning.nameId)
  }
  if (options.alterAfterSigning?.attribute && signed) rewriteAttribute(signed, options.alterAfterSigning.attribute.name, options.alterAfterSigning.attribute.value)

  if ((options.commentInDigestValue || options.twoSignedInfo) && signed) {
    const signature = childElements(signed, SAML_NS.dsig, 'Signature')[0]
    if (!signature) throw new Error('commentInDigestValue / twoSignedInfo need a signed assertion')
    const originalDigest = firstDescendant(signature, SAML_NS.dsig, 'DigestValue')!
    const original = originalDigest.textContent ?? ''
    rewriteIdentity(signed, options.evilNameId ?? 'mallory@globex.test')
    const altered = digestOfAltered(signed, options)
    if (options.commentInDigestValue) {
      while (originalDigest.firstChild) originalDigest.removeChild(originalDigest.firstChild)
      originalDigest.appendChild(doc.createComment(altered))
      originalDigest.appendChild(doc.createTextNode(original))
    }
    if (options.twoSignedInfo) {
      const signedInfo = childElements(signature, SAML_NS.dsig, 'SignedInfo')[0]!
      const second = signedInfo.cloneNode(true) as Element
      setText(firstDescendant(second, SAML_NS.dsig, 'DigestValue')!, altered)
      // Without its Transforms, so node-saml's "at most 2 transforms" rule lets it through and the
      // refusal must come from xml-crypto's "one SignedInfo" rule (the CVE-2025-29774 fix).
      const transforms = firstDescendant(second, SAML_NS.dsig, 'Transforms')
      transforms?.parentNode?.removeChild(transforms)
      signature.insertBefore(second, signedInfo)
    }
  }

  if (options.wrapping && signed) {
    const evil = signed.cloneNode(true) as Element
    const evilSignature = childElements(evil, SAML_NS.dsig, 'Signature')[0]
    if (evilSignature && options.wrapping !== 'signed_in_object') evil.removeChild(evilSignature)
    evil.setAttribute('ID', options.wrapping === 'duplicate_id' ? signed.getAttribute('ID')! : generateSamlId())
    rewriteIdentity(evil, options.evilNameId ?? 'mallory@globex.test')
    const extensionsWith = (child: Element) => {
      const extensions = doc.createElementNS(SAML_NS.protocol, 'samlp:Extensions')
      extensions.appendChild(child)
      const issuer = childElements(response, SAML_NS.assertion, 'Issuer')[0]
      const status = childElements(response, SAML_NS.protocol, 'Status')[0]!
      response.insertBefore(extensions, issuer ? issuer.nextSibling : status)
    }
    switch (options.wrapping) {
      case 'evil_before':
        response.insertBefore(evil, signed)
        break
      case 'evil_after':
        response.insertBefore(evil, signed.nextSibling)
        break
      case 'signed_nested_in_evil':
        response.replaceChild(evil, signed)
        evil.appendChild(signed)
        break
      case 'signed_in_extensions':
      case 'duplicate_id':
        response.replaceChild(evil, signed)
        extensionsWith(signed)
        break
      case 'signed_in_object': {
        response.replaceChild(evil, signed)
        const signature = childElements(evil, SAML_NS.dsig, 'Signature')[0]
        if (!signature) throw new Error('signed_in_object needs a signed assertion')
        const object = doc.createElementNS(SAML_NS.dsig, 'ds:Object')
        object.appendChild(signed)
        signature.appendChild(object)
        break
      }
    }
  }

  if (options.encryptedAssertion) {
    const assertion = childElements(response, SAML_NS.assertion, 'Assertion')[0]
    const encrypted = parse(
      `<saml:EncryptedAssertion xmlns:saml="${SAML_NS.assertion}"><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">` +
        `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>`,
    ).documentElement as unknown as Element
    const imported = doc.importNode(encrypted as never, true) as unknown as Element
    if (assertion) response.replaceChild(imported, assertion)
    else response.appendChild(imported)
  }
  return serialize(doc)
}
