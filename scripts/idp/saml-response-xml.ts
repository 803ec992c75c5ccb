/**
 * DEVELOPMENT AND TEST ONLY: builds and signs SAML 2.0 Responses the way an IdP does, with
 * xml-crypto 6.3.2 `SignedXml` (rsa-sha256, exc-c14n, enveloped; ~5 ms each). The local SAML IdP
 * (`saml-idp.ts`) uses it with its defaults; `test/support/saml-responses.ts` turns every knob to
 * build hostile responses. Nothing under `src/` imports it.
 */
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignedXml } from 'xml-crypto'

export const SAML_NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const

export const SAML_STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success'
export const AUTHN_CONTEXT_PASSWORD_PROTECTED = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'
export const SIGNATURE_ALGORITHMS = { sha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', sha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' } as const
export const DIGEST_ALGORITHMS = { sha256: 'http://www.w3.org/2001/04/xmlenc#sha256', sha1: 'http://www.w3.org/2000/09/xmldsig#sha1' } as const

/** An IdP signing key and its self-signed certificate (PEM). */
export type SamlSigningKeys = { privateKeyPem: string; certificatePem: string }

/**
 * Generates (once) an RSA key and a self-signed certificate with `openssl` into `dir` and returns
 * them: `.data/saml-idp` in development, a temp dir in tests.
 */
export function loadOrCreateSamlSigningKeys(dir: string, options: { name?: string; days?: number; bits?: number; commonName?: string } = {}): SamlSigningKeys {
  const name = options.name ?? 'saml-idp'
  const keyFile = join(dir, `${name}.key.pem`)
  const certFile = join(dir, `${name}.cert.pem`)
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    execFileSync('openssl', [
      'req', '-x509', '-newkey', `rsa:${options.bits ?? 2048}`, '-nodes', '-sha256',
      '-keyout', keyFile, '-out', certFile,
      '-days', String(options.days ?? 3650),
      '-subj', `/CN=${options.commonName ?? 'Gatehouse local SAML IdP'}`,
    ], { stdio: 'ignore' })
  }
  return { privateKeyPem: readFileSync(keyFile, 'utf8'), certificatePem: readFileSync(certFile, 'utf8') }
}

/** An xs:ID: NCName, so it starts with a letter or underscore. */
export function generateSamlId(): string {
  return `_${randomBytes(20).toString('hex')}`
}

export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** `2026-11-30T05:50:00.000Z`: SAML's xs:dateTime in UTC. */
export function samlInstant(date: Date): string {
  return date.toISOString()
}

export type SamlAssertionParams = {
  issuer: string
  /** SP entity ID; null leaves out the AudienceRestriction. */
  audience: string | null
  /** `SubjectConfirmationData@Recipient` (the ACS URL); null leaves it out. */
  recipient: string | null
  inResponseTo: string | null
  nameId: string
  nameIdFormat: string
  /** Raw XML inserted verbatim into NameID instead of the escaped `nameId` (hostile comments). */
  nameIdXml?: string
  attributes: Record<string, string | string[]>
  /** Raw XML per attribute value, verbatim (hostile comments inside a value). */
  attributeXml?: Record<string, string>
  assertionId: string
  issueInstant: Date
  notBefore: Date
  notOnOrAfter: Date
  subjectNotOnOrAfter: Date
  authnInstant: Date
  authnContextClassRef: string
  sessionIndex?: string
}

/** The unsigned `saml:Assertion`. */
export function buildAssertionXml(p: SamlAssertionParams): string {
  const attributes = Object.entries(p.attributes)
    .map(([name, value]) => {
      const values = p.attributeXml?.[name] !== undefined ? [p.attributeXml[name]!] : (Array.isArray(value) ? value : [value]).map(escapeXml)
      return `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${values
        .map((text) => `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${text}</saml:AttributeValue>`)
        .join('')}</saml:Attribute>`
    })
    .join('')
  const confirmationData = [
    p.inResponseTo !== null ? ` InResponseTo="${escapeXml(p.inResponseTo)}"` : '',
    ` NotOnOrAfter="${samlInstant(p.subjectNotOnOrAfter)}"`,
    p.recipient !== null ? ` Recipient="${escapeXml(p.recipient)}"` : '',
  ].join('')
  return (
    `<saml:Assertion xmlns:saml="${SAML_NS.assertion}" ID="${p.assertionId}" Version="2.0" IssueInstant="${samlInstant(p.issueInstant)}">` +
    `<saml:Issuer>${escapeXml(p.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${escapeXml(p.nameIdFormat)}">${p.nameIdXml ?? escapeXml(p.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${confirmationData}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${samlInstant(p.notBefore)}" NotOnOrAfter="${samlInstant(p.notOnOrAfter)}">` +
    (p.audience !== null ? `<saml:AudienceRestriction><saml:Audience>${escapeXml(p.audience)}</saml:Audience></saml:AudienceRestriction>` : '') +
    `</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${samlInstant(p.authnInstant)}" SessionIndex="${p.sessionIndex ?? p.assertionId}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${escapeXml(p.authnContextClassRef)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion>`
  )
}

export type SamlResponseEnvelopeParams = {
  responseId: string
  issueInstant: Date
  /** The ACS URL; null leaves `Destination` out. */
  destination: string | null
  inResponseTo: string | null
  /** The Response's own `Issuer`; null leaves it out (it is optional, SAML Core §3.2.2). */
  issuer: string | null
  statusCode: string
  /** A second-level status code (e.g. `…:status:AuthnFailed`). */
  subStatusCode?: string
  statusMessage?: string
}

/** The unsigned `samlp:Response` around `assertionXml` (empty for an error response). */
export function buildResponseXml(p: SamlResponseEnvelopeParams, assertionXml: string): string {
  const attributes = [
    `ID="${p.responseId}"`,
    'Version="2.0"',
    `IssueInstant="${samlInstant(p.issueInstant)}"`,
    p.destination !== null ? `Destination="${escapeXml(p.destination)}"` : '',
    p.inResponseTo !== null ? `InResponseTo="${escapeXml(p.inResponseTo)}"` : '',
  ]
    .filter(Boolean)
    .join(' ')
  const subStatus = p.subStatusCode ? `<samlp:StatusCode Value="${escapeXml(p.subStatusCode)}"/>` : ''
  return (
    `<samlp:Response xmlns:samlp="${SAML_NS.protocol}" xmlns:saml="${SAML_NS.assertion}" ${attributes}>` +
    (p.issuer !== null ? `<saml:Issuer>${escapeXml(p.issuer)}</saml:Issuer>` : '') +
    `<samlp:Status><samlp:StatusCode Value="${escapeXml(p.statusCode)}">${subStatus}</samlp:StatusCode>` +
    (p.statusMessage ? `<samlp:StatusMessage>${escapeXml(p.statusMessage)}</samlp:StatusMessage>` : '') +
    `</samlp:Status>` +
    assertionXml +
    `</samlp:Response>`
  )
}

export type SamlSignOptions = {
  keys: SamlSigningKeys
  /** `Assertion` or `Response`: which element (the first of its name under the root) gets an enveloped signature. */
  element: 'Assertion' | 'Response'
  signatureAlgorithm?: keyof typeof SIGNATURE_ALGORITHMS
  digestAlgorithm?: keyof typeof DIGEST_ALGORITHMS
}

/**
 * Signs one element of `xml` (enveloped, exc-c14n, the certificate in KeyInfo) and returns the
 * whole document. The signature goes right after the element's `Issuer` (or first), as the
 * schema requires (SAML Core §5.4.1).
 */
export function signSamlXml(xml: string, options: SamlSignOptions): string {
  const target = options.element === 'Response' ? "/*[local-name(.)='Response']" : "//*[local-name(.)='Assertion'][1]"
  const signature = new SignedXml({
    privateKey: options.keys.privateKeyPem,
    publicCert: options.keys.certificatePem,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[options.signatureAlgorithm ?? 'sha256'],
    canonicalizationAlgorithm: EXC_C14N,
  })
  signature.addReference({ xpath: target, digestAlgorithm: DIGEST_ALGORITHMS[options.digestAlgorithm ?? 'sha256'], transforms: [ENVELOPED, EXC_C14N] })
  const issuer = `${target}/*[local-name(.)='Issuer']`
  const hasIssuer = new RegExp(options.element === 'Response' ? '^<samlp:Response[^>]*><saml:Issuer' : '<saml:Assertion[^>]*><saml:Issuer').test(xml)
  signature.computeSignature(xml, { prefix: 'ds', location: hasIssuer ? { reference: issuer, action: 'after' } : { reference: target, action: 'prepend' } })
  return signature.getSignedXml()
}

/** Everything a good response needs; the IdP fills it from the AuthnRequest and the user. */
export type GoodSamlResponseParams = {
  keys: SamlSigningKeys
  idpEntityId: string
  spEntityId: string
  acsUrl: string
  inResponseTo: string | null
  nameId: string
  nameIdFormat: string
  attributes: Record<string, string | string[]>
  authnInstant: Date
  authnContextClassRef?: string
  now?: Date
  /** How long the assertion is valid (default 5 minutes). */
  lifetimeSeconds?: number
}

/** A Success response signed on both the Response and the Assertion (rsa-sha256, exc-c14n). */
export function buildSignedSamlResponse(p: GoodSamlResponseParams): { xml: string; responseId: string; assertionId: string } {
  const now = p.now ?? new Date()
  const until = new Date(now.getTime() + (p.lifetimeSeconds ?? 300) * 1000)
  const assertionId = generateSamlId()
  const responseId = generateSamlId()
  const assertion = buildAssertionXml({
    issuer: p.idpEntityId,
    audience: p.spEntityId,
    recipient: p.acsUrl,
    inResponseTo: p.inResponseTo,
    nameId: p.nameId,
    nameIdFormat: p.nameIdFormat,
    attributes: p.attributes,
    assertionId,
    issueInstant: now,
    notBefore: new Date(now.getTime() - 5_000),
    notOnOrAfter: until,
    subjectNotOnOrAfter: until,
    authnInstant: p.authnInstant,
    authnContextClassRef: p.authnContextClassRef ?? AUTHN_CONTEXT_PASSWORD_PROTECTED,
  })
  const signedAssertion = signSamlXml(assertion, { keys: p.keys, element: 'Assertion' })
  const response = buildResponseXml(
    { responseId, issueInstant: now, destination: p.acsUrl, inResponseTo: p.inResponseTo, issuer: p.idpEntityId, statusCode: SAML_STATUS_SUCCESS },
    signedAssertion,
  )
  return { xml: signSamlXml(response, { keys: p.keys, element: 'Response' }), responseId, assertionId }
}
