/**
 * SAML connections in the console (issue 10, item 5; ADR 015), against the local SAML IdP for the
 * metadata URL. Threats:
 * - privilege escalation through the role map: an admin may not map IdP groups above their role;
 * - an unsigned response accepted: the two want-signed flags can never both be false;
 * - a stale or weak key trusted: expired and sub-2048-bit certificates are refused at save;
 * - server-side request forgery through the metadata URL: the outbound guard refuses private hosts;
 * - XXE / entity expansion through uploaded metadata: a DTD is refused before parsing.
 * Every refusal writes nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Organization, User } from '../../db/schema'
import { startLocalSamlIdp, type LocalSamlIdp } from '../../scripts/idp/saml-idp'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { createTestOrganization, createTestUser, nextTestIp, signedInCaller, tableChecksums } from '../support/auth-fixtures'
import { createSamlTestKeys } from '../support/saml-responses'
import { auditEventsOfType } from '../support/sso-fixtures'
import { expectAppError } from '../support/trpc-errors'

const DAY_MS = 24 * 60 * 60 * 1000
const keys = createSamlTestKeys('console-idp')
const nextKeys = createSamlTestKeys('console-idp-next')
const shortLivedKeys = createSamlTestKeys('console-idp-short', { days: 20 })
const weakKeys = createSamlTestKeys('console-idp-weak', { bits: 1024 })

let idp: LocalSamlIdp
let organization: Organization
let admin: { user: User } & Awaited<ReturnType<typeof signedInCaller>>
let owner: { user: User } & Awaited<ReturnType<typeof signedInCaller>>

async function signedInMember(role: User['role']) {
  const { user } = await createTestUser({ organizationId: organization.id, role })
  return { user, ...(await signedInCaller(user, { isMfaSatisfied: true, ip: nextTestIp() })) }
}

function manual(certificates: string[] = [keys.certificatePem]) {
  return { kind: 'manual' as const, entityId: 'https://idp.console.test', ssoUrl: 'https://idp.console.test/sso', certificates }
}

beforeAll(async () => {
  idp = await startLocalSamlIdp({ port: 0, keys, users: [] })
  organization = await createTestOrganization()
  admin = await signedInMember('admin')
  owner = await signedInMember('owner')
})

afterEach(() => resetClockForTests())

afterAll(async () => {
  await idp?.stop()
})

describe('creating a SAML connection', () => {
  it('imports the IdP from its metadata URL and shows the SP values and the certificate', async () => {
    const created = await admin.caller.organization.sso.createSaml({ displayName: 'Globex SAML', idp: { kind: 'metadata_url', url: idp.metadataUrl }, groupRoleMap: { admins: 'admin' } })
    expect(created).toMatchObject({ protocol: 'saml', status: 'draft', redirectUri: null, wantsAuthnRequestsSigned: false })
    expect(created.saml).toMatchObject({
      spEntityId: expect.stringMatching(new RegExp(`/api/auth/saml/${created.id}/metadata$`)),
      acsUrl: expect.stringMatching(new RegExp(`/api/auth/saml/${created.id}/acs$`)),
      metadataUrl: created.saml!.spEntityId,
      idpEntityId: idp.entityId,
      idpSsoUrl: idp.ssoUrl,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      isIdpInitiatedAllowed: false,
    })
    expect(created.saml!.certificates).toEqual([
      expect.objectContaining({ fingerprintSha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/), subject: 'CN=test console-idp', isExpired: false, isExpiringSoon: false }),
    ])
    const [event] = (await auditEventsOfType('sso.connection.created')).filter((e) => e.details.connectionId === created.id)
    expect(event).toMatchObject({ actorUserId: admin.user.id, details: { protocol: 'saml', source: 'metadata_url', idpEntityId: idp.entityId } })
  })

  it('imports pasted metadata XML, and takes values typed by hand', async () => {
    const xml = await (await fetch(idp.metadataUrl)).text()
    const fromXml = await admin.caller.organization.sso.createSaml({ displayName: 'Pasted', idp: { kind: 'metadata_xml', xml } })
    expect(fromXml.saml!.idpEntityId).toBe(idp.entityId)
    const byHand = await admin.caller.organization.sso.createSaml({ displayName: 'By hand', idp: manual(), nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', emailAttribute: 'mail' })
    expect(byHand.saml).toMatchObject({ idpEntityId: 'https://idp.console.test', nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', emailAttribute: 'mail', groupsAttribute: null })
  })

  it('warns about a certificate that expires within 30 days', async () => {
    const created = await admin.caller.organization.sso.createSaml({ displayName: 'Short-lived', idp: manual([shortLivedKeys.certificatePem]) })
    expect(created.saml!.certificates[0]).toMatchObject({ isExpired: false, isExpiringSoon: true })
  })

  it('an owner may map a group to owner (the other side of the role rule)', async () => {
    const created = await owner.caller.organization.sso.createSaml({ displayName: 'Owner map', idp: manual(), groupRoleMap: { founders: 'owner' } })
    expect(created.groupRoleMap).toEqual({ founders: 'owner' })
  })
})

describe('refusals write nothing', () => {
  it.each([
    { attempt: 'an admin mapping a group to owner', code: 'FORBIDDEN' as const, input: () => ({ displayName: 'X', idp: manual(), groupRoleMap: { everyone: 'owner' as const } }) },
    { attempt: 'both want-signed flags off', code: 'INVALID_INPUT' as const, input: () => ({ displayName: 'X', idp: manual(), wantAssertionsSigned: false, wantAuthnResponseSigned: false }) },
    { attempt: 'a weak (1024-bit) certificate', code: 'INVALID_INPUT' as const, input: () => ({ displayName: 'X', idp: manual([weakKeys.certificatePem]) }) },
    { attempt: 'something that is not a certificate', code: 'INVALID_INPUT' as const, input: () => ({ displayName: 'X', idp: manual(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----']) }) },
    { attempt: 'a metadata URL on a private address (SSRF)', code: 'INVALID_INPUT' as const, input: () => ({ displayName: 'X', idp: { kind: 'metadata_url' as const, url: 'https://169.254.169.254/metadata' } }) },
    { attempt: 'metadata with a DTD (XXE)', code: 'INVALID_INPUT' as const, input: () => ({ displayName: 'X', idp: { kind: 'metadata_xml' as const, xml: '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' } }) },
    { attempt: 'a plain-http SSO URL', code: 'INVALID_INPUT' as const, input: () => ({ displayName: 'X', idp: { ...manual(), ssoUrl: 'http://idp.console.test/sso' } }) },
  ])('refuses $attempt', async ({ code, input }) => {
    const before = await tableChecksums()
    await expectAppError(admin.caller.organization.sso.createSaml(input()), code)
    expect(await tableChecksums()).toEqual(before)
  })

  it('refuses an expired certificate at save', async () => {
    advanceClockForTests(21 * DAY_MS)
    // A session of that future day (the suite's own sessions would have expired by then).
    const later = await signedInMember('admin')
    const before = await tableChecksums()
    const refused = await expectAppError(later.caller.organization.sso.createSaml({ displayName: 'X', idp: manual([shortLivedKeys.certificatePem]) }), 'INVALID_INPUT')
    expect(refused.message).toMatch(/expired/)
    expect(await tableChecksums()).toEqual(before)
  })

  it('metadata listing several IdPs asks which entity ID to use', async () => {
    const xml = await (await fetch(idp.metadataUrl)).text()
    const second = xml.replaceAll(idp.entityId, 'https://second.idp.test')
    const inner = (document: string) => document.replace(/^<\?xml[^>]*>\s*/, '')
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${inner(xml)}${inner(second)}</md:EntitiesDescriptor>`
    const before = await tableChecksums()
    const refused = await expectAppError(admin.caller.organization.sso.createSaml({ displayName: 'X', idp: { kind: 'metadata_xml', xml: aggregate } }), 'INVALID_INPUT')
    expect(refused.message).toContain('https://second.idp.test')
    expect(await tableChecksums()).toEqual(before)
    const chosen = await admin.caller.organization.sso.createSaml({ displayName: 'Chosen', idp: { kind: 'metadata_xml', xml: aggregate, entityId: 'https://second.idp.test' } })
    expect(chosen.saml!.idpEntityId).toBe('https://second.idp.test')
  })
})

describe('certificate rotation and updates', () => {
  it('adds the next certificate (both accepted), removes the old one, and never the last', async () => {
    const created = await admin.caller.organization.sso.createSaml({ displayName: 'Rotating', idp: manual() })
    const [oldCertificate] = created.saml!.certificates
    const added = await admin.caller.organization.sso.addSamlCertificate({ connectionId: created.id, certificate: nextKeys.certificatePem })
    expect(added.saml!.certificates).toHaveLength(2)
    const removed = await admin.caller.organization.sso.removeSamlCertificate({ connectionId: created.id, fingerprintSha256: oldCertificate!.fingerprintSha256 })
    expect(removed.saml!.certificates.map((certificate) => certificate.subject)).toEqual(['CN=test console-idp-next'])
    const before = await tableChecksums()
    await expectAppError(admin.caller.organization.sso.removeSamlCertificate({ connectionId: created.id, fingerprintSha256: removed.saml!.certificates[0]!.fingerprintSha256 }), 'INVALID_INPUT')
    expect(await tableChecksums()).toEqual(before)
    const events = (await auditEventsOfType('sso.connection.updated')).filter((e) => e.details.connectionId === created.id)
    expect(events.map((e) => e.details.change)).toEqual(['certificate_added', 'certificate_removed'])
  })

  it('updateSaml changes settings, keeps the IdP side unless given, and voids the last test', async () => {
    const created = await admin.caller.organization.sso.createSaml({ displayName: 'To update', idp: manual() })
    const updated = await admin.caller.organization.sso.updateSaml({ connectionId: created.id, displayName: 'Updated', groupsAttribute: 'memberOf', wantAssertionsSigned: false })
    expect(updated).toMatchObject({ displayName: 'Updated', isTestedSinceLastChange: false, saml: { groupsAttribute: 'memberOf', wantAssertionsSigned: false, idpEntityId: 'https://idp.console.test' } })
    const reimported = await admin.caller.organization.sso.updateSaml({ connectionId: created.id, displayName: 'Updated', idp: { kind: 'metadata_url', url: idp.metadataUrl } })
    expect(reimported.saml!.idpEntityId).toBe(idp.entityId)
    const [event] = (await auditEventsOfType('sso.connection.updated')).filter((e) => e.details.connectionId === created.id)
    expect(event!.details.changedSettings).toEqual(expect.arrayContaining(['displayName', 'samlGroupsAttribute', 'samlWantAssertionsSigned']))
  })

  it('another organization’s connection is NOT_FOUND (BOLA), and an OIDC connection is not SAML', async () => {
    const created = await admin.caller.organization.sso.createSaml({ displayName: 'Mine', idp: manual() })
    const otherOrganization = await createTestOrganization()
    const { user } = await createTestUser({ organizationId: otherOrganization.id, role: 'admin' })
    const stranger = await signedInCaller(user, { isMfaSatisfied: true, ip: nextTestIp() })
    const before = await tableChecksums()
    await expectAppError(stranger.caller.organization.sso.addSamlCertificate({ connectionId: created.id, certificate: nextKeys.certificatePem }), 'NOT_FOUND')
    await expectAppError(stranger.caller.organization.sso.updateSaml({ connectionId: created.id, displayName: 'Hijacked' }), 'NOT_FOUND')
    expect(await tableChecksums()).toEqual(before)
  })
})
