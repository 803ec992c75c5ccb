/**
 * Server-only: the checks the app makes after node-saml 5.1.0 validated a response, because
 * node-saml does not make them (issue 10, item 3; ADR 015), and the translation of node-saml's
 * error messages into stable reason codes for `sso.sign_in.failed` and the doctor.
 *
 * - Issuer: the assertion's (and the Response's, when present) must be the connection's IdP entity
 *   ID. Without it, any IdP whose certificate the connection also trusts could speak for this one.
 * - Destination (Response) and Recipient (every bearer SubjectConfirmationData) must be this
 *   connection's ACS URL: a response minted for another SP, or another connection, is refused
 *   (SAML Profiles §4.1.4.2–4.1.4.3).
 * The assertion-level facts come from the signed assertion (`profile.getAssertion()`); the
 * Response envelope from `profile.getSamlResponseXml()`, trustworthy when the Response signature is
 * required, which is the default.
 */
import { SamlStatusError } from '@node-saml/node-saml'
import { DOMParser } from '@xmldom/xmldom'
import { readSamlAssertionFacts, type SamlProfileLike } from './saml-attributes'

const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol'
const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion'
const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success'

export type SamlCheckName = 'issuer' | 'destination' | 'recipient'
export type SamlCheckFailure = { check: SamlCheckName; reason: string }

function childElement(parent: Element, namespace: string, localName: string): Element | null {
  return (Array.from(parent.childNodes).find((node) => node.nodeType === 1 && (node as unknown as Element).localName === localName && (node as unknown as Element).namespaceURI === namespace) as unknown as Element | undefined) ?? null
}

function readResponseEnvelope(responseXml: string | undefined): { destination: string | null; issuer: string | null; statusCode: string | null } | null {
  if (!responseXml) return null
  const problems: string[] = []
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: (m) => problems.push(m), fatalError: (m) => problems.push(m) } }).parseFromString(responseXml, 'text/xml')
  const root = doc?.documentElement
  if (problems.length > 0 || doc?.doctype || !root || root.localName !== 'Response' || root.namespaceURI !== PROTOCOL_NS) return null
  const issuer = childElement(root as unknown as Element, ASSERTION_NS, 'Issuer')
  const status = childElement(root as unknown as Element, PROTOCOL_NS, 'Status')
  const statusCode = status ? childElement(status, PROTOCOL_NS, 'StatusCode') : null
  return {
    destination: root.hasAttribute('Destination') ? root.getAttribute('Destination') : null,
    issuer: issuer ? (issuer.textContent ?? '').trim() : null,
    statusCode: statusCode?.getAttribute('Value') ?? null,
  }
}

/**
 * The Response's top-level status when it is not Success (null when it is). node-saml 5.1.0 reads
 * the status only when the Response carries no assertion: a signed error response that still
 * contains a valid assertion (an IdP saying "Responder/AuthnFailed" next to a stale or partial
 * assertion) would otherwise sign someone in. SAML Core §3.2.2.2: anything but Success means the
 * request was not fulfilled. A missing or unreadable status counts as not Success.
 */
export function getSamlResponseFailureStatus(profile: SamlProfileLike & { getSamlResponseXml?: () => string }): string | null {
  const envelope = readResponseEnvelope(profile.getSamlResponseXml?.())
  if (envelope?.statusCode === STATUS_SUCCESS) return null
  return envelope?.statusCode ?? 'missing'
}

/**
 * Checks Issuer, Destination and Recipient of a response node-saml accepted; an empty list means
 * all passed. Byte-for-byte comparisons: entity IDs and URLs are compared as configured.
 */
export function checkSamlResponseAddressing(
  profile: SamlProfileLike & { getSamlResponseXml?: () => string },
  expected: { idpEntityId: string; acsUrl: string },
): SamlCheckFailure[] {
  const failures: SamlCheckFailure[] = []
  const facts = readSamlAssertionFacts(profile)
  if (facts.issuer !== expected.idpEntityId) failures.push({ check: 'issuer', reason: 'assertion_issuer_mismatch' })
  const envelope = readResponseEnvelope(profile.getSamlResponseXml?.())
  if (!envelope) {
    failures.push({ check: 'destination', reason: 'response_unreadable' })
  } else {
    if (envelope.issuer !== null && envelope.issuer !== expected.idpEntityId) failures.push({ check: 'issuer', reason: 'response_issuer_mismatch' })
    if (envelope.destination === null) failures.push({ check: 'destination', reason: 'destination_missing' })
    else if (envelope.destination !== expected.acsUrl) failures.push({ check: 'destination', reason: 'destination_mismatch' })
  }
  if (facts.bearerConfirmations.length === 0) failures.push({ check: 'recipient', reason: 'no_bearer_confirmation' })
  else if (facts.bearerConfirmations.some((confirmation) => confirmation.recipient !== expected.acsUrl)) failures.push({ check: 'recipient', reason: 'recipient_mismatch' })
  return failures
}

/** Why node-saml refused a response, as a stable code (its messages are not an API). */
export type SamlValidationFailure = 'signature' | 'in_response_to' | 'times' | 'audience' | 'idp_status' | 'no_assertion' | 'invalid_response'

/** Maps an error thrown by `validatePostResponseAsync` to a reason code (and, for `idp_status`, the top-level status code). */
export function classifySamlValidationError(error: unknown): { reason: SamlValidationFailure; statusCode?: string } {
  if (error instanceof SamlStatusError) {
    const code = /StatusCode Value="([^"]+)"/.exec(error.xmlStatus)?.[1]
    return { reason: 'idp_status', ...(code ? { statusCode: code } : {}) }
  }
  const message = error instanceof Error ? error.message : ''
  if (/InResponseTo/i.test(message)) return { reason: 'in_response_to' }
  if (/expired|not yet valid|too old|subject confirmation/i.test(message)) return { reason: 'times' }
  if (/audience/i.test(message)) return { reason: 'audience' }
  if (/signature|transforms|multiple assertions|signed data|Cannot obtain assertion/i.test(message)) return { reason: 'signature' }
  if (/Missing SAML assertion/i.test(message)) return { reason: 'no_assertion' }
  return { reason: 'invalid_response' }
}
