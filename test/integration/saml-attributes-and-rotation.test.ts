/**
 * SAML sign-in details of issue 10 against hand-signed responses (xml-crypto, the IdP's key):
 * attribute defaults by OID name, an `emailAddress`-format NameID standing in for the email,
 * linking an existing account of the organization, and certificate rotation — the old and the new
 * certificate both verify while both are listed; a removed one is refused (signature).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getServerEnv } from '../../src/server/env'
import { getSamlServiceProviderUrls } from '../../src/server/sso/saml/saml-metadata'
import { createTestUser, nextTestIp, sql } from '../support/auth-fixtures'
import { callerIn, newTestBrowser } from '../support/oidc-fixtures'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../support/saml-responses'
import { followToCompletion, postToAcs, startSamlFlow, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import { auditEventsOfType } from '../support/sso-fixtures'

const domain = 'saml-attributes.test'
const oldKeys = createSamlTestKeys('rotation-old')
const newKeys = createSamlTestKeys('rotation-new')
const EMAIL_OID = 'urn:oid:0.9.2342.19200300.100.1.3'
const DISPLAY_NAME_OID = 'urn:oid:2.16.840.1.113730.3.1.241'
const EMAIL_NAMEID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'

let testbed: SamlTestbed

beforeAll(async () => {
  testbed = await startSamlTestbed([], { domain, keys: oldKeys, connection: { samlIdpCertificates: [oldKeys.certificatePem, newKeys.certificatePem] } })
})

afterAll(async () => {
  await testbed?.stop()
})

/** A fresh flow answered by a response signed with `keys`, through the ACS and the completion. */
async function signIn(knobs: Partial<SamlTestResponseOptions> & Pick<SamlTestResponseOptions, 'keys'>) {
  const browser = newTestBrowser()
  const requestId = await startSamlFlow(testbed.connection.id, browser, '/app')
  const urls = getSamlServiceProviderUrls(getServerEnv().appUrl, testbed.connection.id)
  const built = buildSamlTestResponse({ idpEntityId: testbed.idp.entityId, spEntityId: urls.entityId, acsUrl: urls.acsUrl, inResponseTo: requestId, ...knobs })
  const acs = await postToAcs(urls.acsUrl, built.base64, { ip: nextTestIp() })
  const completion = acs.status === 303 ? await followToCompletion(browser, acs.headers.get('location')!) : null
  return { acs, completion, browser }
}

describe('SAML attributes', () => {
  it('reads email and name from their OID attribute names', async () => {
    const { completion, browser } = await signIn({ keys: oldKeys, nameId: 'oid-subject', attributes: { [EMAIL_OID]: `oid@${domain}`, [DISPLAY_NAME_OID]: 'Olga Oid' } })
    expect(completion!.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { email: `oid@${domain}`, name: 'Olga Oid' }, session: { authMethod: 'saml' } })
  })

  it('takes the email from an emailAddress-format NameID when no email attribute is sent', async () => {
    const { completion, browser } = await signIn({ keys: oldKeys, nameId: `nameid@${domain}`, nameIdFormat: EMAIL_NAMEID, attributes: { displayName: 'Nina NameID' } })
    expect(completion!.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { email: `nameid@${domain}` } })
  })

  it("links an existing account of the organization whose email the verified domain vouches for", async () => {
    const { user } = await createTestUser({ email: `linda@${domain}`, organizationId: testbed.organization.id })
    const { completion, browser } = await signIn({ keys: oldKeys, nameId: 'linda-subject', attributes: { email: `linda@${domain}`, displayName: 'Linda Link' } })
    expect(completion!.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { id: user.id } })
    expect((await auditEventsOfType('sso.identity.linked')).some((event) => event.subjectUserId === user.id)).toBe(true)
  })
})

describe('certificate rotation', () => {
  it('accepts responses signed by the old and by the new certificate while both are listed, then refuses the removed one', async () => {
    const viaOld = await signIn({ keys: oldKeys, nameId: 'rotation-old-subject', attributes: { email: `rot-old@${domain}` } })
    expect(viaOld.completion?.status).toBe(303)
    const viaNew = await signIn({ keys: newKeys, nameId: 'rotation-new-subject', attributes: { email: `rot-new@${domain}` } })
    expect(viaNew.completion?.status).toBe(303)

    await sql('UPDATE sso_connections SET saml_idp_certificates = ? WHERE id = ?', [JSON.stringify([newKeys.certificatePem]), testbed.connection.id])
    const sessionsBefore = await sql('SELECT COUNT(*) AS n FROM sessions')
    const refused = await signIn({ keys: oldKeys, nameId: 'rotation-old-subject-2', attributes: { email: `rot-old2@${domain}` } })
    expect(refused.acs.status).toBe(400)
    expect(await refused.acs.text()).toContain('signature')
    expect(await sql('SELECT COUNT(*) AS n FROM sessions')).toEqual(sessionsBefore)
    const stillNew = await signIn({ keys: newKeys, nameId: 'rotation-new-subject-2', attributes: { email: `rot-new2@${domain}` } })
    expect(stillNew.completion?.status).toBe(303)
  })
})
