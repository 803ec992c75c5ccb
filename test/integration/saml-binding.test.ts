/**
 * The SAML completion (step 2, `GET …/complete?ticket=`) belongs to the browser that started the
 * login (issue 10, "Done means", saml-binding). Step 1 is a cross-site POST that carries no cookie,
 * so an attacker who obtains a ticket (or a whole signed response) must still not be able to finish
 * the login in another browser — login CSRF and session fixation run exactly that way. A ticket is
 * single-use and the flow has a lifetime. Every refusal: a 4xx page, no session, the account
 * tables untouched, exactly one `sso.sign_in.failed` event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signInAtLocalSamlIdp } from '../../scripts/idp/saml-idp'
import { hashFlowValue } from '../../src/server/sso/login-flows'
import { sql } from '../support/auth-fixtures'
import { beginSignInAs, callerIn, newTestBrowser, type TestBrowser } from '../support/oidc-fixtures'
import { createTestSamlConnection } from '../support/saml-fixtures'
import { followToCompletion, postToAcs, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import { expectRefusalWithNothingWritten, snapshotAccountState } from '../support/sso-refusals'

const domain = 'saml-binding.test'
const GRACE = { email: `grace@${domain}`, password: 'grace-idp-password', displayName: 'Grace Hopper', groups: ['staff'] }

let testbed: SamlTestbed

beforeAll(async () => {
  testbed = await startSamlTestbed([GRACE], { domain })
})

afterAll(async () => {
  await testbed?.stop()
})

/** Email first → the IdP → step 1 (accepted) in `browser`; returns the completion URL the 303 named. */
async function answeredLogin(browser: TestBrowser): Promise<string> {
  const answer = await beginSignInAs(browser, GRACE.email, '/settings/security')
  if (answer.next !== 'sso') throw new Error('expected SSO')
  const posted = await signInAtLocalSamlIdp(answer.url, GRACE)
  const acs = await postToAcs(posted.acsUrl, posted.SAMLResponse, { ip: browser.ip })
  expect(acs.status).toBe(303)
  return acs.headers.get('location')!
}

const ticketOf = (completeUrl: string) => new URL(completeUrl, 'http://localhost').searchParams.get('ticket')!

describe('SAML completion in the browser that started the login', () => {
  it('a completion with no binding cookie is refused, and the ticket is spent for everyone', async () => {
    const victim = newTestBrowser()
    const completeUrl = await answeredLogin(victim)
    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(newTestBrowser(), completeUrl), before, { status: 400, reason: 'browser_mismatch' })
    // The flow was consumed before the browser check: a refused completion cannot be retried.
    const [flow] = await sql('SELECT consumed_at FROM sso_login_flows WHERE completion_ticket_hash = ?', [hashFlowValue(ticketOf(completeUrl))])
    expect(flow!.consumed_at).not.toBeNull()
    const again = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(victim, completeUrl), again, { status: 400, reason: 'already_consumed' })
    expect(await callerIn(victim).auth.me()).toBeNull()
  })

  it("a completion with another browser's binding cookie is refused", async () => {
    const victim = newTestBrowser()
    const completeUrl = await answeredLogin(victim)
    // The attacker started a login of their own, so their browser holds a valid binding cookie — for another flow.
    const attacker = newTestBrowser()
    expect((await beginSignInAs(attacker, GRACE.email)).next).toBe('sso')
    expect(attacker.cookies.size).toBeGreaterThan(0)
    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(attacker, completeUrl), before, { status: 400, reason: 'browser_mismatch' })
    expect(await callerIn(attacker).auth.me()).toBeNull()
  })

  it('a reused ticket is refused (the flow is single-use), in the same browser and in another', async () => {
    const browser = newTestBrowser()
    const completeUrl = await answeredLogin(browser)
    const first = await followToCompletion(browser, completeUrl)
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('/settings/security')
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { email: GRACE.email } })

    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(browser, completeUrl), before, { status: 400, reason: 'already_consumed' })
    const again = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(newTestBrowser(), completeUrl), again, { status: 400, reason: 'already_consumed' })
  })

  it("a ticket taken to another connection's completion URL is refused", async () => {
    const other = await createTestSamlConnection(testbed.organization.id, {
      samlIdpEntityId: testbed.idp.entityId,
      samlIdpSsoUrl: testbed.idp.ssoUrl,
      samlIdpCertificates: [testbed.idp.certificatePem],
    })
    const browser = newTestBrowser()
    const completeUrl = await answeredLogin(browser)
    const elsewhere = completeUrl.replace(`/saml/${testbed.connection.id}/`, `/saml/${other.id}/`)
    expect(elsewhere).not.toBe(completeUrl)
    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(browser, elsewhere), before, { status: 400, reason: 'connection_mismatch' })
    expect(await callerIn(browser).auth.me()).toBeNull()
  })

  it('an unknown ticket is refused', async () => {
    const browser = newTestBrowser()
    const completeUrl = await answeredLogin(browser)
    const forged = completeUrl.replace(/ticket=[^&]+/, `ticket=${'A'.repeat(43)}`)
    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(browser, forged), before, { status: 400, reason: 'unknown_ticket' })
    const withoutTicket = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(browser, completeUrl.replace(/\?.*$/, '')), withoutTicket, { status: 400, reason: 'unknown_ticket' })
  })

  it('a flow that expired between the ACS and the completion is refused', async () => {
    const browser = newTestBrowser()
    const completeUrl = await answeredLogin(browser)
    await sql('UPDATE sso_login_flows SET expires_at = DATE_SUB(created_at, INTERVAL 1 SECOND) WHERE completion_ticket_hash = ?', [hashFlowValue(ticketOf(completeUrl))])
    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await followToCompletion(browser, completeUrl), before, { status: 400, reason: 'expired' })
    expect(await callerIn(browser).auth.me()).toBeNull()
  })

  it('a response to a flow that expired before the ACS is refused at step 1', async () => {
    const browser = newTestBrowser()
    const answer = await beginSignInAs(browser, GRACE.email)
    if (answer.next !== 'sso') throw new Error('expected SSO')
    const posted = await signInAtLocalSamlIdp(answer.url, GRACE)
    const requestId = testbed.idp.requests.at(-1)!.id
    const expired = await sql('UPDATE sso_login_flows SET expires_at = DATE_SUB(created_at, INTERVAL 1 SECOND) WHERE connection_id = ? AND nonce = ?', [testbed.connection.id, requestId])
    expect((expired as unknown as { affectedRows: number }).affectedRows).toBe(1)
    const before = await snapshotAccountState()
    await expectRefusalWithNothingWritten(await postToAcs(posted.acsUrl, posted.SAMLResponse, { ip: browser.ip }), before, { status: 400, reason: 'in_response_to' })
  })
})
