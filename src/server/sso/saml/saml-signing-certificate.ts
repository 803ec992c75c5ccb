/**
 * Server-only: which of a connection's IdP certificates signed a response node-saml has already
 * accepted — for the connection doctor only. node-saml tries every listed certificate and does not
 * say which one matched, yet during a rotation the admin must know whether the IdP has switched to
 * the new key before removing the old one (removing the key still in use is an outage).
 *
 * Nothing here decides whether a response is trusted: node-saml and the ACS did that. The
 * signatures checked are the ones node-saml relies on (on the Response and on its Assertion), with
 * each listed certificate in turn and never a certificate from the response's own KeyInfo.
 */
import { DOMParser } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { describeSamlCertificate } from './saml-certificates'

const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
const SAML_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#'

type XmlElement = Element

function childElements(parent: XmlElement, namespace: string, localName: string): XmlElement[] {
  const found: XmlElement[] = []
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as XmlElement).namespaceURI === namespace && (node as XmlElement).localName === localName) found.push(node as XmlElement)
  }
  return found
}

/** The enveloped signatures of the Response and of its direct Assertion children. */
function signaturesOf(xml: string): XmlElement[] {
  // DOCTYPE and entities were refused before this runs (saml-preparse); the parse is of the same text.
  const root = new DOMParser({ errorHandler: { warning: () => undefined, error: () => undefined, fatalError: () => undefined } }).parseFromString(xml, 'text/xml').documentElement as XmlElement | null
  if (!root || root.namespaceURI !== SAML_PROTOCOL || root.localName !== 'Response') return []
  const assertions = childElements(root, SAML_ASSERTION, 'Assertion')
  return [root, ...assertions].flatMap((element) => childElements(element, XMLDSIG, 'Signature'))
}

function isSignedBy(xml: string, signature: XmlElement, pem: string): boolean {
  try {
    const verifier = new SignedXml({ publicCert: pem, getCertFromKeyInfo: () => null })
    verifier.loadSignature(signature)
    return verifier.checkSignature(xml)
  } catch {
    return false
  }
}

/**
 * The SHA-256 fingerprint and subject of the listed certificate that verifies every signature the
 * response carries; null when there is no signature or no single listed certificate verifies them all.
 */
export function findSigningCertificate(xml: string, certificatePems: readonly string[], now: Date): { fingerprintSha256: string; subject: string } | null {
  const signatures = signaturesOf(xml)
  if (signatures.length === 0) return null
  const pem = certificatePems.find((candidate) => signatures.every((signature) => isSignedBy(xml, signature, candidate)))
  if (!pem) return null
  const { fingerprintSha256, subject } = describeSamlCertificate(pem, now)
  return { fingerprintSha256, subject }
}
