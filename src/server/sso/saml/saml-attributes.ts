/**
 * Server-only: from a node-saml profile (already signature- and time-checked) to the
 * protocol-independent `SsoClaims` (issue 10, item 1 "Attribute mapping"; ADR 015).
 *
 * - The subject is the NameID exactly as signed: opaque and case-sensitive. A `transient` NameID
 *   changes at every login, so it can never be an identity's key and is refused.
 * - The email comes from the connection's attribute, else the first of the common names, else an
 *   `emailAddress`-format NameID. SAML has no `email_verified`: `isEmailVerifiedByIdp` is always
 *   false and only the verified-domain rule can make the email count (ADR 014, linking rule 3).
 * - Multi-valued attributes are kept (groups); for single-valued claims the first value is used.
 * - Values that are not plain text (an attribute value with child elements) are ignored, never
 *   stringified: `[object Object]` must not become a group or an email.
 */
import { normalizeEmail } from '../../users/email'
import type { SsoClaims } from '../sso-sign-in'

export const SAML_NAMEID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
} as const

/** The attribute names tried, in order, when the connection names none (issue 10). */
export const DEFAULT_SAML_ATTRIBUTE_NAMES = {
  email: ['email', 'mail', 'urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
  name: ['displayName', 'name', 'urn:oid:2.16.840.1.113730.3.1.241', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'],
  groups: ['groups', 'memberOf', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'],
} as const

/** The connection's attribute names (`sso_connections.saml_*_attribute`); null: the defaults. */
export type SamlAttributeMapping = {
  samlEmailAttribute: string | null
  samlNameAttribute: string | null
  samlGroupsAttribute: string | null
  samlAmrAttribute: string | null
}

/** The parts of node-saml's `Profile` this module reads (a real profile satisfies it). */
export type SamlProfileLike = {
  nameID?: unknown
  nameIDFormat?: unknown
  attributes?: unknown
  /** node-saml: the signed assertion parsed by xml2js (`explicitCharkey`, prefixes stripped). */
  getAssertion?: () => Record<string, unknown>
}

export type SamlClaimsRefusalReason = 'subject_missing' | 'transient_subject' | 'assertion_unreadable'

export class SamlClaimsRefusal extends Error {
  override name = 'SamlClaimsRefusal'
  constructor(readonly reason: SamlClaimsRefusalReason) {
    super(`SAML assertion refused: ${reason}`)
  }
}

const MAX_SUBJECT_LENGTH = 255
const MAX_EMAIL_LENGTH = 254
const MAX_NAME_LENGTH = 512
const MAX_GROUPS = 200
const MAX_GROUP_LENGTH = 255

type XmlNode = { _?: unknown; $?: Record<string, unknown> } & Record<string, unknown>

/** Text of an xml2js value: a plain string, or `{ _: string }` without child elements. */
function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const node = value as XmlNode
    const hasChildren = Object.keys(node).some((key) => key !== '_' && key !== '$')
    if (!hasChildren && typeof node._ === 'string') return node._
  }
  return null
}

/** Every plain-text value of an attribute (node-saml gives one value bare, several as an array). */
export function readSamlAttributeValues(attributes: unknown, name: string): string[] {
  if (!attributes || typeof attributes !== 'object' || !Object.prototype.hasOwnProperty.call(attributes, name)) return []
  const raw = (attributes as Record<string, unknown>)[name]
  const values = Array.isArray(raw) ? raw : [raw]
  return values.map(textOf).filter((value): value is string => value !== null)
}

function firstValue(attributes: unknown, names: readonly string[], maxLength: number): string | null {
  for (const name of names) {
    const value = readSamlAttributeValues(attributes, name)
      .map((text) => text.trim())
      .find((text) => text.length > 0)
    if (value !== undefined) return value.length <= maxLength ? value : null
  }
  return null
}

function namesFor(configured: string | null, defaults: readonly string[]): readonly string[] {
  return configured ? [configured] : defaults
}

function first(value: unknown): XmlNode | null {
  const item = Array.isArray(value) ? value[0] : value
  return item && typeof item === 'object' ? (item as XmlNode) : null
}

function attributeOf(node: XmlNode | null, name: string): string | null {
  const value = node?.$?.[name]
  return typeof value === 'string' ? value : null
}

function parseInstant(value: string | null): Date | null {
  if (!value) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

/** What the app checks itself after node-saml (issue 10, item 3) and what step-up needs. */
export type SamlAssertionFacts = {
  assertionId: string
  issuer: string | null
  issueInstant: Date | null
  /** `Conditions@NotOnOrAfter`: how long the replay store keeps the assertion ID. */
  notOnOrAfter: Date | null
  /** Every bearer `SubjectConfirmationData` (the app requires `Recipient` = the ACS URL). */
  bearerConfirmations: Array<{ recipient: string | null; notOnOrAfter: Date | null; inResponseTo: string | null }>
  /** First `AuthnStatement` (step-up requires a fresh `AuthnInstant`). */
  authnInstant: Date | null
  authnContextClassRef: string | null
  authnStatementCount: number
}

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'

/**
 * Reads the facts above from the *signed* assertion node-saml returns (`profile.getAssertion()`),
 * never from the raw response, so an unsigned sibling cannot feed them (signature wrapping).
 */
export function readSamlAssertionFacts(profile: SamlProfileLike): SamlAssertionFacts {
  const assertion = first(profile.getAssertion?.()?.Assertion)
  const assertionId = attributeOf(assertion, 'ID')
  if (!assertion || !assertionId) throw new SamlClaimsRefusal('assertion_unreadable')
  const subject = first(assertion.Subject)
  const confirmations = Array.isArray(subject?.SubjectConfirmation) ? (subject.SubjectConfirmation as XmlNode[]) : []
  const authnStatements = Array.isArray(assertion.AuthnStatement) ? (assertion.AuthnStatement as XmlNode[]) : []
  const authnStatement = authnStatements[0] ?? null
  const classRef = first(first(authnStatement?.AuthnContext)?.AuthnContextClassRef)
  return {
    assertionId,
    issuer: textOf(first(assertion.Issuer)),
    issueInstant: parseInstant(attributeOf(assertion, 'IssueInstant')),
    notOnOrAfter: parseInstant(attributeOf(first(assertion.Conditions), 'NotOnOrAfter')),
    bearerConfirmations: confirmations
      .filter((confirmation) => attributeOf(confirmation, 'Method') === BEARER)
      .map((confirmation) => {
        const data = first(confirmation.SubjectConfirmationData)
        return {
          recipient: attributeOf(data, 'Recipient'),
          notOnOrAfter: parseInstant(attributeOf(data, 'NotOnOrAfter')),
          inResponseTo: attributeOf(data, 'InResponseTo'),
        }
      }),
    authnInstant: parseInstant(attributeOf(authnStatement, 'AuthnInstant')),
    authnContextClassRef: classRef ? textOf(classRef)?.trim() || null : null,
    authnStatementCount: authnStatements.length,
  }
}

const MAX_SHOWN_ATTRIBUTES = 50
const MAX_SHOWN_ATTRIBUTE_NAME_LENGTH = 200

/**
 * What the IdP sent besides the claims, for the connection doctor only: the NameID format it
 * asserted and the attribute names it released (names, never values: a value may be personal data
 * the mapping does not use). This is how an admin finds the attribute to map when the defaults miss.
 */
export function readSamlResponseDetails(profile: SamlProfileLike): { nameIdFormat: string | null; attributeNames: string[] } {
  const attributes = profile.attributes
  const names = attributes && typeof attributes === 'object' ? Object.keys(attributes) : []
  return {
    nameIdFormat: typeof profile.nameIDFormat === 'string' ? profile.nameIDFormat.slice(0, MAX_SHOWN_ATTRIBUTE_NAME_LENGTH) : null,
    attributeNames: names.filter((name) => name.length <= MAX_SHOWN_ATTRIBUTE_NAME_LENGTH).slice(0, MAX_SHOWN_ATTRIBUTES),
  }
}

/**
 * Maps a validated node-saml profile to `SsoClaims`. `acr` is the `AuthnContextClassRef`; `amr` the
 * values of the connection's amr-style attribute, when it names one. Throws `SamlClaimsRefusal`.
 */
export function mapSamlProfileToClaims(profile: SamlProfileLike, mapping: SamlAttributeMapping): SsoClaims {
  const subject = typeof profile.nameID === 'string' ? profile.nameID : null
  if (!subject || subject.length > MAX_SUBJECT_LENGTH) throw new SamlClaimsRefusal('subject_missing')
  const nameIdFormat = typeof profile.nameIDFormat === 'string' ? profile.nameIDFormat : null
  if (nameIdFormat === SAML_NAMEID_FORMATS.transient) throw new SamlClaimsRefusal('transient_subject')

  const attributes = profile.attributes
  const emailFromAttributes = firstValue(attributes, namesFor(mapping.samlEmailAttribute, DEFAULT_SAML_ATTRIBUTE_NAMES.email), MAX_EMAIL_LENGTH)
  const emailFromNameId = nameIdFormat === SAML_NAMEID_FORMATS.emailAddress && subject.length <= MAX_EMAIL_LENGTH ? subject.trim() : null
  const rawEmail = emailFromAttributes ?? emailFromNameId

  const groupNames = namesFor(mapping.samlGroupsAttribute, DEFAULT_SAML_ATTRIBUTE_NAMES.groups)
  const groups = [...new Set(groupNames.flatMap((name) => readSamlAttributeValues(attributes, name)).map((group) => group.trim()))]
    .filter((group) => group.length > 0 && group.length <= MAX_GROUP_LENGTH)
    .slice(0, MAX_GROUPS)

  const facts = readSamlAssertionFacts(profile)
  const amr = mapping.samlAmrAttribute ? readSamlAttributeValues(attributes, mapping.samlAmrAttribute) : []
  return {
    subject,
    email: rawEmail && rawEmail.includes('@') ? normalizeEmail(rawEmail) : null,
    // SAML has no `email_verified`; the verified-domain rule alone decides (ADR 014).
    isEmailVerifiedByIdp: false,
    name: firstValue(attributes, namesFor(mapping.samlNameAttribute, DEFAULT_SAML_ATTRIBUTE_NAMES.name), MAX_NAME_LENGTH),
    groups,
    amr: amr.length > 0 ? amr : undefined,
    acr: facts.authnContextClassRef ?? undefined,
    authTime: facts.authnInstant,
  }
}
