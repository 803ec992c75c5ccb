/**
 * Checks on a SAML POST *before* any XML parser sees it (issue 10, item 3). node-saml 5.1.0 parses
 * first and asks questions later; these refusals are cheap, need no key, and close whole classes of
 * attack before a parser can be abused:
 * - an oversized body (memory and CPU exhaustion; 413);
 * - a `SAMLResponse` that is not base64 of UTF-8 (parser differentials between decoders);
 * - any `<!DOCTYPE`: internal entities ("billion laughs"), external SYSTEM entities and remote DTDs
 *   (XXE, SSRF; OWASP XXE Prevention Cheat Sheet). SAML never needs a DTD (SAML Core §1.3);
 * - an `EncryptedAssertion` (not supported; node-saml would try to decrypt it);
 * - any SHA-1 `SignatureMethod` or `DigestMethod` (SHA-1 collisions, SHAttered 2017; node-saml
 *   accepts them).
 *
 * The XML checks are textual on purpose and err on the side of refusing: a namespace prefix,
 * whitespace or a character reference cannot hide the markers below.
 */

export type SamlPreparseRefusal =
  | 'body_too_large'
  | 'missing_saml_response'
  | 'not_base64'
  | 'not_utf8'
  | 'doctype'
  | 'encrypted_assertion'
  | 'sha1_algorithm'
  | 'encoded_algorithm'

export type SamlPreparseResult = { isAccepted: true; xml: string } | { isAccepted: false; reason: SamlPreparseRefusal; httpStatus: 400 | 413 }

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Algorithms of XML-DSig (RFC 3275, RFC 6931) that use SHA-1. */
const SHA1_ALGORITHM = /(?:xmldsig#(?:rsa|dsa|hmac)-sha1|xmldsig#sha1|xmldsig-more#ecdsa-sha1|xmldsig-more#rsa-sha1|xmldsig11#dsa-sha1)\b/i

function refuse(reason: SamlPreparseRefusal): SamlPreparseResult {
  return { isAccepted: false, reason, httpStatus: reason === 'body_too_large' ? 413 : 400 }
}

/** True when the byte count alone already refuses the body (call before reading it; 413). */
export function isSamlBodyTooLarge(contentLength: number | null, maxBytes: number): boolean {
  return contentLength !== null && contentLength > maxBytes
}

/** Decodes the POST's `SAMLResponse` (base64 → strict UTF-8) and refuses what no parser should see. */
export function preparseSamlResponse(samlResponse: string | null | undefined, options: { maxBytes: number }): SamlPreparseResult {
  if (typeof samlResponse !== 'string' || samlResponse.length === 0) return refuse('missing_saml_response')
  if (samlResponse.length > options.maxBytes) return refuse('body_too_large')
  const base64 = samlResponse.replace(/[\r\n\t ]+/g, '')
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return refuse('not_base64')
  let xml: string
  try {
    xml = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Buffer.from(base64, 'base64'))
  } catch {
    return refuse('not_utf8')
  }
  return checkSamlXml(xml)
}

/** The textual checks on decoded XML (exported for the doctor and for tests). */
export function checkSamlXml(xml: string): SamlPreparseResult {
  // `<!DOCTYPE` in any case; also `<!ENTITY` alone, which is meaningless without a DTD but refused anyway.
  if (/<!\s*(?:DOCTYPE|ENTITY)/i.test(xml)) return refuse('doctype')
  if (/<(?:[A-Za-z_][\w.-]*:)?EncryptedAssertion[\s/>]/.test(xml)) return refuse('encrypted_assertion')
  // Character references (`&#x73;ha1`) could spell an algorithm a decoder understands but a regex misses.
  if (/Algorithm\s*=\s*["'][^"']*&/i.test(xml)) return refuse('encoded_algorithm')
  if (SHA1_ALGORITHM.test(xml)) return refuse('sha1_algorithm')
  return { isAccepted: true, xml }
}
