/**
 * IdP-initiated SAML login (issue 10): off by default because it allows login CSRF (an unsolicited
 * response for the attacker's account can be posted into any browser; there is no flow to bind).
 * With the per-connection switch on, an unsolicited signed response signs in at the ACS itself,
 * RelayState counts only as a same-origin path, and the replay store still refuses a second POST;
 * a response that names a request is still checked against this connection's flows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SsoConnection } from '../../db/schema'
import { getServerEnv } from '../../src/server/env'
import { getSamlServiceProviderUrls } from '../../src/server/sso/saml/saml-metadata'
import { nextTestIp, sql } from '../support/auth-fixtures'
import { createSamlTestKeys, buildSamlTestResponse } from '../support/saml-responses'
import { createTestSamlConnection } from '../support/saml-fixtures'
import { postToAcs, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'

const domain = 'saml-idp-initiated.test'
const keys = createSamlTestKeys('idp-initiated-idp')

let testbed: SamlTestbed
let allowing: SsoConnection

beforeAll(async () => {
  testbed = await startSamlTestbed([], { domain, keys })
  allowing = await createTestSamlConnection(testbed.organization.id, {
    samlIdpEntityId: testbed.idp.entityId,
    samlIdpSsoUrl: testbed.idp.ssoUrl,
    samlIdpCertificates: [keys.certificatePem],
    displayName: 'IdP-initiated allowed',
    samlIsIdpInitiatedAllowed: true,
  })
})

afterAll(async () => {
  await testbed?.stop()
})

function unsolicited(connection: SsoConnection, nameId: string, email: string, inResponseTo: string | null = null) {
  const urls = getSamlServiceProviderUrls(getServerEnv().appUrl, connection.id)
  return buildSamlTestResponse({
    keys,
    idpEntityId: connection.samlIdpEntityId!,
    spEntityId: urls.entityId,
    acsUrl: urls.acsUrl,
    inResponseTo,
    nameId,
    attributes: { email, displayName: 'Ivy Initiated', groups: [] },
  })
}

const acsOf = (connection: SsoConnection) => getSamlServiceProviderUrls(getServerEnv().appUrl, connection.id).acsUrl

describe('IdP-initiated login, switched on for one connection', () => {
  it('an unsolicited signed response signs in at the ACS and lands on a same-origin RelayState', async () => {
    const built = unsolicited(allowing, 'ivy-subject', `ivy@${domain}`)
    const response = await postToAcs(acsOf(allowing), built.base64, { ip: nextTestIp(), relayState: '/settings/security' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/settings/security')
    expect(response.headers.getSetCookie().some((cookie) => cookie.startsWith('gatehouse_session='))).toBe(true)

    // The same response again is a replay, refused on every instance by the replay store.
    const sessionsBefore = await sql('SELECT COUNT(*) AS n FROM sessions')
    const replay = await postToAcs(acsOf(allowing), built.base64, { ip: nextTestIp() })
    expect(replay.status).toBe(400)
    expect(await sql('SELECT COUNT(*) AS n FROM sessions')).toEqual(sessionsBefore)
  })

  it('an off-site RelayState is ignored: the login lands on /app', async () => {
    const built = unsolicited(allowing, 'ivy-subject-2', `ivy2@${domain}`)
    const response = await postToAcs(acsOf(allowing), built.base64, { ip: nextTestIp(), relayState: 'https://evil.test/phish' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/app')
  })

  it('a response naming a request no flow of this connection made is still refused', async () => {
    const built = unsolicited(allowing, 'ivy-subject-3', `ivy3@${domain}`, '_unknown-request-id')
    const response = await postToAcs(acsOf(allowing), built.base64, { ip: nextTestIp() })
    expect(response.status).toBe(400)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('the other side: the same unsolicited response at a connection with the switch off is refused', async () => {
    const built = unsolicited(testbed.connection, 'ivy-subject-4', `ivy4@${domain}`)
    const response = await postToAcs(acsOf(testbed.connection), built.base64, { ip: nextTestIp() })
    expect(response.status).toBe(400)
    expect(response.headers.getSetCookie()).toEqual([])
  })
})

describe('the IdP-initiated switch', () => {
  it('only an owner who re-authenticated recently may turn it on; it is audited', async () => {
    const { createTestUser, signedInCaller } = await import('../support/auth-fixtures')
    const { expectAppError } = await import('../support/trpc-errors')
    const { user: admin } = await createTestUser({ role: 'admin', organizationId: testbed.organization.id })
    const { user: owner } = await createTestUser({ role: 'owner', organizationId: testbed.organization.id })
    await expectAppError((await signedInCaller(admin)).caller.organization.sso.setIdpInitiated({ connectionId: testbed.connection.id, isAllowed: true }), 'FORBIDDEN')
    const updated = await (await signedInCaller(owner)).caller.organization.sso.setIdpInitiated({ connectionId: testbed.connection.id, isAllowed: true })
    expect(updated.isIdpInitiatedAllowed).toBe(true)
    const [event] = await sql("SELECT details FROM audit_events WHERE type = 'sso.connection.updated' ORDER BY id DESC LIMIT 1")
    expect(JSON.stringify(event!.details)).toContain('idp_initiated_on')
  })
})
