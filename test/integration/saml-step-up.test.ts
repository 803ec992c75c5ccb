/**
 * SAML step-up (issue 10, "Done means", saml-step-up): a SAML-signed-in user re-authenticates at
 * the IdP through `auth.beginSsoReauthentication`; the AuthnRequest carries ForceAuthn, and the
 * answer counts only when it is a fresh login (`AuthnInstant` no earlier than the flow's start
 * minus the skew — some IdPs ignore ForceAuthn and answer from their own session) of the same
 * identity (same connection, same NameID). The refusals are hand-built responses, signed as the
 * IdP signs, answering the re-authentication flow's own request ID, so nothing but the stale
 * instant or the other NameID is wrong with them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { parseRedirectAuthnRequest, signInAtLocalSamlIdp } from '../../scripts/idp/saml-idp'
import { parseSessionToken } from '../../src/server/auth/session'
import { getServerEnv } from '../../src/server/env'
import { getSamlServiceProviderUrls } from '../../src/server/sso/saml/saml-metadata'
import { sql } from '../support/auth-fixtures'
import { beginStepUpIn, callerIn, newTestBrowser, sessionTokenIn, type TestBrowser } from '../support/oidc-fixtures'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../support/saml-responses'
import { followToCompletion, loginThroughSamlIdp, postToAcs, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import { auditEventsOfType } from '../support/sso-fixtures'
import { expectRefusalWithNothingWritten, snapshotAccountState } from '../support/sso-refusals'

const domain = 'saml-step-up.test'
const keys = createSamlTestKeys('step-up-idp')
const GRACE = { email: `grace@${domain}`, password: 'grace-idp-password', displayName: 'Grace Hopper', groups: ['staff'], nameId: 'grace-persistent-id' }
const ADA = { email: `ada@${domain}`, password: 'ada-idp-password', displayName: 'Ada Lovelace', groups: ['staff'], nameId: 'ada-persistent-id' }

let testbed: SamlTestbed

beforeAll(async () => {
  testbed = await startSamlTestbed([GRACE, ADA], { domain, keys })
})

afterAll(async () => {
  await testbed?.stop()
})

/** A browser signed in as `user` through the local SAML IdP. */
async function signedInThroughSaml(user: typeof GRACE): Promise<TestBrowser> {
  const browser = newTestBrowser()
  const { completion } = await loginThroughSamlIdp(browser, user)
  expect(completion?.status).toBe(303)
  expect(testbed.idp.requests.at(-1)!.isForceAuthn).toBe(false)
  expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { email: user.email }, session: { authMethod: 'saml' } })
  return browser
}

/** A step-up started in `browser`; the AuthnRequest ID decoded from the IdP URL (the IdP is not visited). */
async function startStepUp(browser: TestBrowser) {
  const url = new URL(await beginStepUpIn(browser, '/settings/security'))
  const request = parseRedirectAuthnRequest(url.searchParams.get('SAMLRequest')!)
  expect(request.isForceAuthn).toBe(true)
  const [flow] = await sql('SELECT created_at FROM sso_login_flows WHERE connection_id = ? AND nonce = ?', [testbed.connection.id, request.id])
  return { url, requestId: request.id, flowCreatedAt: flow!.created_at as Date }
}

/** A response to the step-up's request, as the IdP signs it, for `user` unless `knobs` say otherwise. */
function stepUpResponse(requestId: string, user: typeof GRACE, knobs: Partial<SamlTestResponseOptions>) {
  const urls = getSamlServiceProviderUrls(getServerEnv().appUrl, testbed.connection.id)
  return buildSamlTestResponse({
    keys,
    idpEntityId: testbed.connection.samlIdpEntityId!,
    spEntityId: urls.entityId,
    acsUrl: urls.acsUrl,
    inResponseTo: requestId,
    nameId: user.nameId,
    attributes: { email: user.email, displayName: user.displayName, groups: user.groups },
    ...knobs,
  })
}

/** Step 1 and step 2 of a step-up answer in `browser`. */
async function deliverStepUpAnswer(browser: TestBrowser, samlResponse: string) {
  const acs = await postToAcs(getSamlServiceProviderUrls(getServerEnv().appUrl, testbed.connection.id).acsUrl, samlResponse, { ip: browser.ip })
  expect(acs.status).toBe(303)
  return followToCompletion(browser, acs.headers.get('location')!)
}

describe('SAML step-up', () => {
  it('with ForceAuthn succeeds for a SAML-signed-in user: the session is re-authenticated (idp) and its token rotated', async () => {
    const browser = await signedInThroughSaml(GRACE)
    const tokenBefore = sessionTokenIn(browser)!
    // An older proof of presence, so the step-up's new one is visible.
    await sql("UPDATE sessions SET reauthenticated_at = DATE_SUB(reauthenticated_at, INTERVAL 10 MINUTE), reauthenticated_with = 'password' WHERE id = ?", [parseSessionToken(tokenBefore)!.id])
    const startedAt = Date.now()
    const url = await beginStepUpIn(browser, '/settings/security')
    const posted = await signInAtLocalSamlIdp(url, GRACE)
    // The local IdP parsed the AuthnRequest: ForceAuthn="true".
    expect(testbed.idp.requests.at(-1)!.isForceAuthn).toBe(true)
    const acs = await postToAcs(posted.acsUrl, posted.SAMLResponse, { ip: browser.ip })
    expect(acs.status).toBe(303)
    const completion = await followToCompletion(browser, acs.headers.get('location')!)
    expect(completion.status).toBe(303)
    expect(completion.headers.get('location')).toBe('/settings/security')
    expect(sessionTokenIn(browser)).not.toBe(tokenBefore)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { email: GRACE.email } })
    const [session] = await sql('SELECT reauthenticated_at, reauthenticated_with FROM sessions WHERE id = ?', [parseSessionToken(sessionTokenIn(browser)!)!.id])
    expect(session!.reauthenticated_with).toBe('idp')
    expect((session!.reauthenticated_at as Date).getTime()).toBeGreaterThanOrEqual(startedAt - 1_000)
    expect((await auditEventsOfType('auth.reauthenticated')).at(-1)!.details).toMatchObject({ factor: 'idp', connectionId: testbed.connection.id })
  })

  it('a stale AuthnInstant (the IdP ignored ForceAuthn) is refused; just inside the skew is accepted', async () => {
    const browser = await signedInThroughSaml(GRACE)
    const skewMs = appConfig.sso.clockSkewSeconds * 1000
    const stale = await startStepUp(browser)
    const before = await snapshotAccountState()
    const refused = await deliverStepUpAnswer(browser, stepUpResponse(stale.requestId, GRACE, { authnInstant: new Date(stale.flowCreatedAt.getTime() - skewMs - 5_000) }).base64)
    await expectRefusalWithNothingWritten(refused, before, { status: 403, reason: 'reauth_stale' })
    // An IdP session from long ago, answered now: the same refusal.
    const old = await startStepUp(browser)
    const beforeOld = await snapshotAccountState()
    const refusedOld = await deliverStepUpAnswer(browser, stepUpResponse(old.requestId, GRACE, { authnInstant: new Date(Date.now() - 8 * 60 * 60_000) }).base64)
    await expectRefusalWithNothingWritten(refusedOld, beforeOld, { status: 403, reason: 'reauth_stale' })

    const fresh = await startStepUp(browser)
    const accepted = await deliverStepUpAnswer(browser, stepUpResponse(fresh.requestId, GRACE, { authnInstant: new Date(fresh.flowCreatedAt.getTime() - skewMs + 5_000) }).base64)
    expect(accepted.status).toBe(303)
    expect(accepted.headers.get('location')).toBe('/settings/security')
  })

  it('another NameID is refused: an unknown subject, and another user of the same connection', async () => {
    const browser = await signedInThroughSaml(GRACE)
    // Ada has an identity at this connection too.
    await signedInThroughSaml(ADA)

    const unknown = await startStepUp(browser)
    const before = await snapshotAccountState()
    // Same email attribute, another NameID: the subject, not the email, names the identity.
    const refusedUnknown = await deliverStepUpAnswer(browser, stepUpResponse(unknown.requestId, { ...GRACE, nameId: 'someone-else-persistent-id' }, {}).base64)
    await expectRefusalWithNothingWritten(refusedUnknown, before, { status: 403, reason: 'reauth_other_user' })

    const other = await startStepUp(browser)
    const beforeOther = await snapshotAccountState()
    const refusedOther = await deliverStepUpAnswer(browser, stepUpResponse(other.requestId, ADA, {}).base64)
    await expectRefusalWithNothingWritten(refusedOther, beforeOther, { status: 403, reason: 'reauth_other_user' })
    // Grace is still signed in as Grace, not re-authenticated.
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { email: GRACE.email } })
  })
})
