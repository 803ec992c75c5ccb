/** Attribute mapping (issue 10): defaults, OID names, multi-valued groups, emailAddress NameID, no email_verified. */
import { describe, expect, it } from 'vitest'
import { mapSamlProfileToClaims, readSamlAssertionFacts, readSamlResponseDetails, SamlClaimsRefusal, SAML_NAMEID_FORMATS, type SamlAttributeMapping, type SamlProfileLike } from './saml-attributes'

const DEFAULTS: SamlAttributeMapping = { samlEmailAttribute: null, samlNameAttribute: null, samlGroupsAttribute: null, samlAmrAttribute: null }

/** The xml2js shape node-saml's `getAssertion()` returns (`explicitCharkey`, prefixes stripped). */
function assertion(overrides: { classRef?: string | null; authnInstant?: string } = {}) {
  return {
    Assertion: {
      $: { ID: '_a1', IssueInstant: '2026-11-30T05:00:00.000Z' },
      Issuer: [{ _: 'https://idp.globex.test' }],
      Subject: [
        {
          NameID: [{ _: 'subject-1', $: { Format: SAML_NAMEID_FORMATS.persistent } }],
          SubjectConfirmation: [
            { $: { Method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer' }, SubjectConfirmationData: [{ $: { Recipient: 'https://sp/acs', NotOnOrAfter: '2026-11-30T05:05:00.000Z', InResponseTo: '_r1' } }] },
          ],
        },
      ],
      Conditions: [{ $: { NotBefore: '2026-11-30T04:59:55.000Z', NotOnOrAfter: '2026-11-30T05:05:00.000Z' } }],
      AuthnStatement: [
        {
          $: { AuthnInstant: overrides.authnInstant ?? '2026-11-30T04:59:00.000Z' },
          AuthnContext: [{ AuthnContextClassRef: overrides.classRef === null ? [] : [{ _: overrides.classRef ?? 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' }] }],
        },
      ],
    },
  }
}

function profile(attributes: Record<string, unknown>, nameID = 'subject-1', nameIDFormat: string = SAML_NAMEID_FORMATS.persistent): SamlProfileLike {
  return { nameID, nameIDFormat, attributes, getAssertion: () => assertion() }
}

describe('mapSamlProfileToClaims', () => {
  it('maps the common attribute names, keeps multi-valued groups, and never claims a verified email', () => {
    const claims = mapSamlProfileToClaims(profile({ email: ' Alice@Globex.TEST ', displayName: 'Alice Globex', groups: ['admins', 'staff', 'admins'] }), DEFAULTS)
    expect(claims).toEqual({
      subject: 'subject-1',
      email: 'alice@globex.test',
      isEmailVerifiedByIdp: false,
      name: 'Alice Globex',
      groups: ['admins', 'staff'],
      amr: undefined,
      acr: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
      authTime: new Date('2026-11-30T04:59:00.000Z'),
    })
  })

  it('reads OID and WS-Federation claim names', () => {
    expect(mapSamlProfileToClaims(profile({ 'urn:oid:0.9.2342.19200300.100.1.3': 'bob@globex.test', 'urn:oid:2.16.840.1.113730.3.1.241': 'Bob' }), DEFAULTS)).toMatchObject({ email: 'bob@globex.test', name: 'Bob' })
    const adfs = profile({
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'carol@globex.test',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name': 'Carol',
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': 'finance',
    })
    expect(mapSamlProfileToClaims(adfs, DEFAULTS)).toMatchObject({ email: 'carol@globex.test', name: 'Carol', groups: ['finance'] })
    expect(mapSamlProfileToClaims(profile({ mail: 'dan@globex.test', memberOf: ['cn=a', 'cn=b'] }), DEFAULTS)).toMatchObject({ email: 'dan@globex.test', groups: ['cn=a', 'cn=b'] })
  })

  it('falls back to an emailAddress-format NameID, which is also the subject', () => {
    expect(mapSamlProfileToClaims(profile({}, 'Erin@Globex.test', SAML_NAMEID_FORMATS.emailAddress), DEFAULTS)).toMatchObject({ subject: 'Erin@Globex.test', email: 'erin@globex.test' })
    expect(mapSamlProfileToClaims(profile({}, 'erin@globex.test', SAML_NAMEID_FORMATS.persistent), DEFAULTS).email).toBeNull()
  })

  it("uses only the connection's attribute names when it names them", () => {
    const mapping = { samlEmailAttribute: 'upn', samlNameAttribute: 'cn', samlGroupsAttribute: 'roles', samlAmrAttribute: 'amr' }
    const claims = mapSamlProfileToClaims(profile({ email: 'wrong@globex.test', upn: 'frank@globex.test', cn: 'Frank', roles: ['r1'], groups: ['ignored'], amr: ['pwd', 'otp'] }), mapping)
    expect(claims).toMatchObject({ email: 'frank@globex.test', name: 'Frank', groups: ['r1'], amr: ['pwd', 'otp'] })
  })

  it('ignores values that are not plain text instead of stringifying them', () => {
    const claims = mapSamlProfileToClaims(profile({ email: { NameID: [{ _: 'x' }] }, groups: ['ok', { nested: [] }, { _: 'text-node' }] }), DEFAULTS)
    expect(claims).toMatchObject({ email: null, groups: ['ok', 'text-node'] })
  })

  it('refuses a missing or transient NameID (no stable identity key)', () => {
    expect(() => mapSamlProfileToClaims(profile({}, ''), DEFAULTS)).toThrow(SamlClaimsRefusal)
    expect(() => mapSamlProfileToClaims(profile({}, 'x'.repeat(256)), DEFAULTS)).toThrow(SamlClaimsRefusal)
    expect(() => mapSamlProfileToClaims(profile({}, '_tmp', SAML_NAMEID_FORMATS.transient), DEFAULTS)).toThrow(/transient_subject/)
  })
})

describe('readSamlAssertionFacts', () => {
  it('reads ID, issuer, times, bearer confirmations and the authentication context from the signed assertion', () => {
    expect(readSamlAssertionFacts({ getAssertion: () => assertion() })).toEqual({
      assertionId: '_a1',
      issuer: 'https://idp.globex.test',
      issueInstant: new Date('2026-11-30T05:00:00.000Z'),
      notOnOrAfter: new Date('2026-11-30T05:05:00.000Z'),
      bearerConfirmations: [{ recipient: 'https://sp/acs', notOnOrAfter: new Date('2026-11-30T05:05:00.000Z'), inResponseTo: '_r1' }],
      authnInstant: new Date('2026-11-30T04:59:00.000Z'),
      authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
      authnStatementCount: 1,
    })
    expect(readSamlAssertionFacts({ getAssertion: () => assertion({ classRef: null, authnInstant: 'garbage' }) })).toMatchObject({ authnContextClassRef: null, authnInstant: null })
    expect(() => readSamlAssertionFacts({})).toThrow(/assertion_unreadable/)
  })
})

describe('readSamlResponseDetails (what the connection doctor shows)', () => {
  it('names the NameID format the IdP asserted and the attributes it released, never their values', () => {
    const details = readSamlResponseDetails(profile({ mail: 'alice@globex.test', 'urn:oid:2.5.4.42': 'Alice' }, 'alice@globex.test', SAML_NAMEID_FORMATS.emailAddress))
    expect(details).toEqual({ nameIdFormat: SAML_NAMEID_FORMATS.emailAddress, attributeNames: ['mail', 'urn:oid:2.5.4.42'] })
    expect(JSON.stringify(details)).not.toContain('Alice')
  })

  it('caps what it keeps: at most 50 names, none longer than 200 characters, and no format when none was sent', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, index) => [`attr${index}`, 'x']))
    const details = readSamlResponseDetails({ nameID: 's', attributes: { ...many, ['n'.repeat(201)]: 'x' } })
    expect(details.attributeNames).toHaveLength(50)
    expect(details.attributeNames.every((name) => name.length <= 200)).toBe(true)
    expect(details.nameIdFormat).toBeNull()
  })
})
