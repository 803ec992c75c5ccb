/**
 * SAML sign-in end to end (issue 10). Against the local SAML IdP (real XML signatures): email-first
 * discovery, the HTTP-Redirect AuthnRequest, the cross-site POST to the ACS (no cookies), the
 * completion in the browser that started it, just-in-time provisioning with group → role mapping,
 * and the replay store (the same response twice yields one session). Against hand-signed responses
 * (xml-crypto, the IdP's key): attribute defaults by OID name, an `emailAddress`-format NameID
 * standing in for the email, linking an existing account of the organization, and certificate
 * rotation — the old and the new certificate both verify while both are listed; a removed one is
 * refused (signature). The connection doctor on SAML: what the IdP sent and which certificate
 * signed, with nothing written but its result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getServerEnv } from '../../src/server/env'
import { describeSamlCertificate } from '../../src/server/sso/saml/saml-certificates'
import { getSamlServiceProviderUrls } from '../../src/server/sso/saml/saml-metadata'
import { parseRedirectAuthnRequest } from '../../scripts/idp/saml-idp'
import { createTestUser, nextTestIp, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { browserWithSession, callerIn, inBrowser, newTestBrowser } from '../support/oidc-fixtures'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../support/saml-responses'
import { auditEventsOfType } from '../support/sso-fixtures'
import { followToCompletion, loginThroughSamlIdp, postToAcs, startSamlFlow, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'

const domain = 'saml-sign-in.test'
const GRACE = { email: `grace@${domain}`, password: 'grace-idp-password', displayName: 'Grace Hopper', groups: ['idp-admins', 'staff'] }

let testbed: SamlTestbed

beforeAll(async () => {
  testbed = await startSamlTestbed([GRACE], { domain, connection: { groupRoleMap: { 'idp-admins': 'admin' } } })
})

afterAll(async () => {
  await testbed?.stop()
})

describe('SAML sign-in', () => {
  it('provisions the user through the two-step ACS and lands on the requested page with a SAML session', async () => {
    const browser = newTestBrowser()
    const { acs, completion } = await loginThroughSamlIdp(browser, GRACE, '/settings/security')
    expect(acs.status).toBe(303)
    // Step 1 answered a cross-site POST: it set no cookie.
    expect(acs.headers.getSetCookie()).toEqual([])
    expect(completion!.status).toBe(303)
    expect(completion!.headers.get('location')).toBe('/settings/security')
    const viewer = await callerIn(browser).auth.me()
    expect(viewer).toMatchObject({ status: 'signed-in', user: { email: GRACE.email, role: 'admin', hasPassword: false }, session: { authMethod: 'saml' } })
    const [identity] = await sql('SELECT subject FROM sso_identities WHERE connection_id = ?', [testbed.connection.id])
    expect(identity).toBeDefined()
    expect((await auditEventsOfType('user.provisioned')).some((event) => event.organizationId === testbed.organization.id)).toBe(true)
  })

  it('a replayed response (the same POST again) is refused: one assertion, one session', async () => {
    const browser = newTestBrowser()
    const { samlResponse, acs } = await loginThroughSamlIdp(browser, GRACE)
    expect(acs.status).toBe(303)
    const sessionsBefore = await sql('SELECT COUNT(*) AS n FROM sessions')
    const replay = await postToAcs(new URL(`/api/auth/saml/${testbed.connection.id}/acs`, 'http://localhost:3000').toString(), samlResponse)
    expect(replay.status).toBeGreaterThanOrEqual(400)
    expect(replay.status).toBeLessThan(500)
    expect(replay.headers.get('location')).toBeNull()
    expect(await sql('SELECT COUNT(*) AS n FROM sessions')).toEqual(sessionsBefore)
  })
})

// Hand-signed responses (xml-crypto) for a second organization: the knobs the local IdP does not turn.
const signedDomain = 'saml-attributes.test'
const oldKeys = createSamlTestKeys('rotation-old')
const newKeys = createSamlTestKeys('rotation-new')
const EMAIL_OID = 'urn:oid:0.9.2342.19200300.100.1.3'
const DISPLAY_NAME_OID = 'urn:oid:2.16.840.1.113730.3.1.241'
const EMAIL_NAMEID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'

let signedTestbed: SamlTestbed

beforeAll(async () => {
  signedTestbed = await startSamlTestbed([], { domain: signedDomain, keys: oldKeys, connection: { samlIdpCertificates: [oldKeys.certificatePem, newKeys.certificatePem] } })
})

afterAll(async () => {
  await signedTestbed?.stop()
})

/** A fresh flow answered by a response signed with `keys`, through the ACS and the completion. */
async function signIn(knobs: Partial<SamlTestResponseOptions> & Pick<SamlTestResponseOptions, 'keys'>) {
  const browser = newTestBrowser()
  const requestId = await startSamlFlow(signedTestbed.connection.id, browser, '/app')
  const urls = getSamlServiceProviderUrls(getServerEnv().appUrl, signedTestbed.connection.id)
  const built = buildSamlTestResponse({ idpEntityId: signedTestbed.idp.entityId, spEntityId: urls.entityId, acsUrl: urls.acsUrl, inResponseTo: requestId, ...knobs })
  const acs = await postToAcs(urls.acsUrl, built.base64, { ip: nextTestIp() })
  const completion = acs.status === 303 ? await followToCompletion(browser, acs.headers.get('location')!) : null
  return { acs, completion, browser }
}

describe('SAML attributes', () => {
  it('reads email and name from their OID attribute names', async () => {
    const { completion, browser } = await signIn({ keys: oldKeys, nameId: 'oid-subject', attributes: { [EMAIL_OID]: `oid@${signedDomain}`, [DISPLAY_NAME_OID]: 'Olga Oid' } })
    expect(completion!.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { email: `oid@${signedDomain}`, name: 'Olga Oid' }, session: { authMethod: 'saml' } })
  })

  it('takes the email from an emailAddress-format NameID when no email attribute is sent', async () => {
    const { completion, browser } = await signIn({ keys: oldKeys, nameId: `nameid@${signedDomain}`, nameIdFormat: EMAIL_NAMEID, attributes: { displayName: 'Nina NameID' } })
    expect(completion!.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { email: `nameid@${signedDomain}` } })
  })

  it("links an existing account of the organization whose email the verified domain vouches for", async () => {
    const { user } = await createTestUser({ email: `linda@${signedDomain}`, organizationId: signedTestbed.organization.id })
    const { completion, browser } = await signIn({ keys: oldKeys, nameId: 'linda-subject', attributes: { email: `linda@${signedDomain}`, displayName: 'Linda Link' } })
    expect(completion!.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { id: user.id } })
    expect((await auditEventsOfType('sso.identity.linked')).some((event) => event.subjectUserId === user.id)).toBe(true)
  })
})

describe('the connection doctor on SAML', () => {
  it('shows the NameID format sent, the attribute names and which listed certificate signed, and writes nothing else', async () => {
    const { user: admin } = await createTestUser({ email: `doctor-admin@${signedDomain}`, organizationId: signedTestbed.organization.id, role: 'admin' })
    const adminBrowser = browserWithSession((await signedInCaller(admin, { isMfaSatisfied: true, ip: nextTestIp() })).token)
    const { url } = await inBrowser(adminBrowser, (caller) => caller.organization.sso.startTest({ connectionId: signedTestbed.connection.id }))
    const requestId = parseRedirectAuthnRequest(new URL(url).searchParams.get('SAMLRequest')!).id
    const tablesBefore = await tableChecksums()

    // A person the app has never seen, signed with the *second* listed certificate.
    const urls = getSamlServiceProviderUrls(getServerEnv().appUrl, signedTestbed.connection.id)
    const attributes = { [EMAIL_OID]: `never-seen@${signedDomain}`, department: 'Research' }
    const built = buildSamlTestResponse({ keys: newKeys, idpEntityId: signedTestbed.idp.entityId, spEntityId: urls.entityId, acsUrl: urls.acsUrl, inResponseTo: requestId, nameId: 'doctor-subject', attributes })
    const acs = await postToAcs(urls.acsUrl, built.base64, { ip: nextTestIp() })
    const completion = await followToCompletion(adminBrowser, acs.headers.get('location')!)

    expect(completion.status).toBe(303)
    expect(completion.headers.get('location')).toBe(`/admin/sso/${signedTestbed.connection.id}?test=done`)
    const { users, sessions, sso_identities } = await tableChecksums()
    expect({ users, sessions, sso_identities }).toEqual({ users: tablesBefore.users, sessions: tablesBefore.sessions, sso_identities: tablesBefore.sso_identities })
    const { result } = await callerIn(adminBrowser).organization.sso.getTestResult({ connectionId: signedTestbed.connection.id })
    const newCertificate = describeSamlCertificate(newKeys.certificatePem, new Date())
    expect(result?.claims).toMatchObject({
      subject: 'doctor-subject',
      email: `never-seen@${signedDomain}`,
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      attributeNames: [EMAIL_OID, 'department'],
      signingCertificate: `${newCertificate.subject} (SHA-256 ${newCertificate.fingerprintSha256})`,
    })
    expect(JSON.stringify(result)).not.toContain('Research')
  })
})

describe('certificate rotation', () => {
  it('accepts responses signed by the old and by the new certificate while both are listed, then refuses the removed one', async () => {
    const viaOld = await signIn({ keys: oldKeys, nameId: 'rotation-old-subject', attributes: { email: `rot-old@${signedDomain}` } })
    expect(viaOld.completion?.status).toBe(303)
    const viaNew = await signIn({ keys: newKeys, nameId: 'rotation-new-subject', attributes: { email: `rot-new@${signedDomain}` } })
    expect(viaNew.completion?.status).toBe(303)

    await sql('UPDATE sso_connections SET saml_idp_certificates = ? WHERE id = ?', [JSON.stringify([newKeys.certificatePem]), signedTestbed.connection.id])
    const sessionsBefore = await sql('SELECT COUNT(*) AS n FROM sessions')
    const refused = await signIn({ keys: oldKeys, nameId: 'rotation-old-subject-2', attributes: { email: `rot-old2@${signedDomain}` } })
    expect(refused.acs.status).toBe(400)
    expect(await refused.acs.text()).toContain('signature')
    expect(await sql('SELECT COUNT(*) AS n FROM sessions')).toEqual(sessionsBefore)
    const stillNew = await signIn({ keys: newKeys, nameId: 'rotation-new-subject-2', attributes: { email: `rot-new2@${signedDomain}` } })
    expect(stillNew.completion?.status).toBe(303)
  })
})
