/**
 * SAML sign-in end to end against the local SAML IdP (real XML signatures): email-first discovery,
 * the HTTP-Redirect AuthnRequest, the cross-site POST to the ACS (no cookies), the completion in
 * the browser that started it, just-in-time provisioning with group → role mapping, and the replay
 * store (the same response twice yields one session).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from '../support/auth-fixtures'
import { callerIn, newTestBrowser } from '../support/oidc-fixtures'
import { auditEventsOfType } from '../support/sso-fixtures'
import { loginThroughSamlIdp, postToAcs, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'

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
