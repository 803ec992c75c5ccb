/**
 * The ACS under attack (issue 10, "Done means", saml-acs-hostile): hand-built SAML Responses
 * (`test/support/saml-responses.ts`, signed with xml-crypto by the key the connection trusts)
 * answering real flows started at the SSO start route, POSTed cross-site to
 * `POST /api/auth/saml/<connectionId>/acs`. Every hostile case is refused with a 4xx page, no
 * session, the account tables untouched and exactly one `sso.sign_in.failed` event naming the
 * reason; each good twin (the skew boundaries, the signing controls) is accepted, so the refusals
 * are about the attack and nothing else.
 *
 * Wrapping, alteration and the DigestValue/SignedInfo tricks run twice: on the default connection
 * (Response and Assertion signatures required, so the broken Response signature alone refuses
 * them) and on a connection that accepts assertion-only signing, where the assertion-level
 * defence must hold on its own.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import type { SsoConnection } from '../../db/schema'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { getServerEnv } from '../../src/server/env'
import { addOrganizationDomain, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { generateSamlRequestId } from '../../src/server/sso/saml/saml-config'
import { getSamlServiceProviderUrls } from '../../src/server/sso/saml/saml-metadata'
import { handleSamlAcsRoute } from '../../src/server/sso/sso-routes'
import { createTestUser, nextTestIp, sql } from '../support/auth-fixtures'
import { callerIn, newTestBrowser, type TestBrowser } from '../support/oidc-fixtures'
import { createTestSamlConnection } from '../support/saml-fixtures'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../support/saml-responses'
import { followToCompletion, postToAcs, startSamlFlow, startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import { OPERATOR_ACTOR } from '../support/sso-fixtures'
import { expectRefusalWithNothingWritten, snapshotAccountState } from '../support/sso-refusals'

const domain = 'saml-hostile.test'
const otherDomain = 'saml-hostile-b.test'
const keys = createSamlTestKeys('acs-hostile-idp')
const attackerKeys = createSamlTestKeys('acs-hostile-attacker')
const STATUS_RESPONDER = 'urn:oasis:names:tc:SAML:2.0:status:Responder'

let tenantA: SamlTestbed
let tenantB: SamlTestbed
/** Same IdP, but only the Assertion signature is required (`wantAuthnResponseSigned: false`). */
let assertionOnly: SsoConnection
/** Same IdP, but only the Response signature is required (`wantAssertionsSigned: false`). */
let responseOnly: SsoConnection

const appUrl = () => getServerEnv().appUrl
const urlsOf = (connection: Pick<SsoConnection, 'id'>) => getSamlServiceProviderUrls(appUrl(), connection.id)

beforeAll(async () => {
  tenantA = await startSamlTestbed([], { domain, keys })
  tenantB = await startSamlTestbed([], { domain: otherDomain, keys })
  const idp = { samlIdpEntityId: tenantA.idp.entityId, samlIdpSsoUrl: tenantA.idp.ssoUrl, samlIdpCertificates: [keys.certificatePem] }
  assertionOnly = await createTestSamlConnection(tenantA.organization.id, { ...idp, displayName: 'Assertion-only', samlWantAuthnResponseSigned: false })
  responseOnly = await createTestSamlConnection(tenantA.organization.id, { ...idp, displayName: 'Response-only', samlWantAssertionsSigned: false })
})

afterAll(async () => {
  await tenantA?.stop()
  await tenantB?.stop()
})

/** Starts a login at `connection` in `browser`; returns the AuthnRequest ID (the flow's nonce). */
async function startFlowAt(connection: Pick<SsoConnection, 'id'>, browser: TestBrowser = newTestBrowser(), redirect?: string) {
  return { browser, requestId: await startSamlFlow(connection.id, browser, redirect) }
}

/** A response to `requestId` addressed to `connection`, as its IdP would sign it, with `knobs` applied. */
function responseFor(connection: SsoConnection, requestId: string | null, knobs: Partial<SamlTestResponseOptions> = {}) {
  const urls = urlsOf(connection)
  return buildSamlTestResponse({
    keys,
    idpEntityId: connection.samlIdpEntityId!,
    spEntityId: urls.entityId,
    acsUrl: urls.acsUrl,
    inResponseTo: requestId,
    nameId: 'saml-subject-alice',
    attributes: { email: `alice@${domain}`, displayName: 'Alice Hostile', groups: ['staff'] },
    ...knobs,
  })
}

/** Starts a flow at `connection`, POSTs the response `knobs` make, and asserts the refusal with nothing written. */
async function expectAcsRefusal(connection: SsoConnection, knobs: Partial<SamlTestResponseOptions>, expected: { reason: string; status?: number }) {
  const { requestId } = await startFlowAt(connection)
  const built = responseFor(connection, requestId, knobs)
  const before = await snapshotAccountState()
  const response = await postToAcs(urlsOf(connection).acsUrl, built.base64, { ip: nextTestIp() })
  return expectRefusalWithNothingWritten(response, before, { status: expected.status ?? 400, reason: expected.reason })
}

/** Starts a flow at `connection` and POSTs the response `knobs` make; true when step 1 answered 303 to the completion. */
async function isAcceptedAtAcs(connection: SsoConnection, knobs: Partial<SamlTestResponseOptions>): Promise<boolean> {
  const { requestId } = await startFlowAt(connection)
  const response = await postToAcs(urlsOf(connection).acsUrl, responseFor(connection, requestId, knobs).base64, { ip: nextTestIp() })
  if (response.status === 303) {
    expect(response.headers.get('location')).toMatch(new RegExp(`^${urlsOf(connection).completeUrl.replace(/[.?]/g, '\\$&')}\\?ticket=`))
    return true
  }
  expect(response.status).toBeGreaterThanOrEqual(400)
  expect(response.status).toBeLessThan(500)
  return false
}

const connectionsBySigning = () => ({ 'both signatures required': tenantA.connection, 'assertion-only signing accepted': assertionOnly })
const SIGNING_SETUPS = ['both signatures required', 'assertion-only signing accepted'] as const

describe('SAML ACS: signatures', () => {
  it('controls: a good response is accepted on each connection (so the refusals below are about the attack)', async () => {
    expect(await isAcceptedAtAcs(tenantA.connection, {})).toBe(true)
    expect(await isAcceptedAtAcs(assertionOnly, { signResponse: false })).toBe(true)
    expect(await isAcceptedAtAcs(responseOnly, { signAssertion: false })).toBe(true)
  })

  it('an unsigned response is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { signResponse: false, signAssertion: false }, { reason: 'signature' })
    await expectAcsRefusal(assertionOnly, { signResponse: false, signAssertion: false }, { reason: 'signature' })
    await expectAcsRefusal(responseOnly, { signResponse: false, signAssertion: false }, { reason: 'signature' })
  })

  it('a response where only the part that is not required is signed is refused', async () => {
    // Only the Response signed, where the Assertion signature is the required one …
    await expectAcsRefusal(assertionOnly, { signAssertion: false }, { reason: 'signature' })
    // … and only the Assertion signed, where the Response signature is the required one.
    await expectAcsRefusal(responseOnly, { signResponse: false }, { reason: 'signature' })
    // Both required: either one alone is not enough.
    await expectAcsRefusal(tenantA.connection, { signAssertion: false }, { reason: 'signature' })
    await expectAcsRefusal(tenantA.connection, { signResponse: false }, { reason: 'signature' })
  })

  it("a response signed by another key, with that key's certificate in KeyInfo, is refused", async () => {
    await expectAcsRefusal(tenantA.connection, { signingKeys: attackerKeys }, { reason: 'signature' })
    await expectAcsRefusal(assertionOnly, { signingKeys: attackerKeys, signResponse: false }, { reason: 'signature' })
  })

  it.each(SIGNING_SETUPS)('a NameID or an attribute altered after signing is refused (%s)', async (setup) => {
    const connection = connectionsBySigning()[setup]
    const signResponse = setup === 'both signatures required'
    await expectAcsRefusal(connection, { signResponse, alterAfterSigning: { nameId: 'saml-subject-mallory' } }, { reason: 'signature' })
    await expectAcsRefusal(connection, { signResponse, alterAfterSigning: { attribute: { name: 'email', value: `mallory@${domain}` } } }, { reason: 'signature' })
    await expectAcsRefusal(connection, { signResponse, alterAfterSigning: { attribute: { name: 'groups', value: 'idp-admins' } } }, { reason: 'signature' })
  })

  describe.each(SIGNING_SETUPS)('signature wrapping (%s)', (setup) => {
    it.each([
      ['an evil assertion before the signed one', 'evil_before'],
      ['an evil assertion after the signed one', 'evil_after'],
      ['the signed assertion nested inside the evil one', 'signed_nested_in_evil'],
      ['the signed assertion inside samlp:Extensions', 'signed_in_extensions'],
      ['the signed assertion inside ds:Object', 'signed_in_object'],
      ['an evil assertion with the signed one\'s ID (duplicate ID)', 'duplicate_id'],
    ] as const)('%s is refused', async (_name, wrapping) => {
      const signResponse = setup === 'both signatures required'
      await expectAcsRefusal(connectionsBySigning()[setup], { signResponse, wrapping, evilNameId: `mallory@${domain}` }, { reason: 'signature' })
    })
  })

  it.each(SIGNING_SETUPS)('two SignedInfo (CVE-2025-29774) and a comment inside DigestValue (CVE-2025-29775) are refused (%s)', async (setup) => {
    const connection = connectionsBySigning()[setup]
    const signResponse = setup === 'both signatures required'
    await expectAcsRefusal(connection, { signResponse, twoSignedInfo: true, evilNameId: `mallory@${domain}` }, { reason: 'signature' })
    await expectAcsRefusal(connection, { signResponse, commentInDigestValue: true, evilNameId: `mallory@${domain}` }, { reason: 'signature' })
  })

  it('a comment inside the NameID and the email never signs anyone in as the truncated address (CVE-2017-11428)', async () => {
    // The attacker's IdP account is alice@<domain>.evil.test; a parser that drops text after a
    // comment would read alice@<domain>, an existing account of this organization. Both domains are
    // verified for the organization, so the only thing that decides is which value the SP reads.
    const victimEmail = `alice@${domain}`
    const signedEmail = `alice@${domain}.evil.test`
    const deps = { db: getDb(), now: now(), actor: OPERATOR_ACTOR }
    await addOrganizationDomain(deps, { organizationId: tenantA.organization.id, domain: `${domain}.evil.test` })
    await verifyOrganizationDomainByOperator(deps, { organizationId: tenantA.organization.id, domain: `${domain}.evil.test` })
    const { user: victim } = await createTestUser({ email: victimEmail, organizationId: tenantA.organization.id })

    const browser = newTestBrowser()
    const { requestId } = await startFlowAt(tenantA.connection, browser, '/settings/security')
    const built = responseFor(tenantA.connection, requestId, {
      nameId: signedEmail,
      commentInNameIdAt: victimEmail.length,
      attributes: { email: signedEmail, displayName: 'Not Alice', groups: [] },
      commentInEmailAt: victimEmail.length,
    })
    expect(built.xml).toContain(`${victimEmail}<!---->.evil.test`)
    const acs = await postToAcs(urlsOf(tenantA.connection).acsUrl, built.base64, { ip: nextTestIp() })
    // node-saml 5.1.0 reads the whole signed text, so the response is accepted — as the full address.
    expect(acs.status).toBe(303)
    const completion = await followToCompletion(browser, acs.headers.get('location')!)
    expect(completion.status).toBe(303)
    const viewer = await callerIn(browser).auth.me()
    expect(viewer).toMatchObject({ status: 'signed-in', user: { email: signedEmail } })
    if (viewer?.status !== 'signed-in') throw new Error('expected a signed-in viewer')
    expect(viewer.user.id).not.toBe(victim.id)
    // The victim got neither a session nor a link to the attacker's subject.
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [victim.id])).toEqual([])
    expect(await sql('SELECT id FROM sso_identities WHERE user_id = ?', [victim.id])).toEqual([])
    const [identity] = await sql('SELECT subject FROM sso_identities WHERE user_id = ?', [viewer.user.id])
    expect(identity!.subject).toBe(signedEmail)
  })
})

describe('SAML ACS: time', () => {
  const skewMs = appConfig.sso.samlAcceptedClockSkewMs
  const maxAgeMs = appConfig.sso.samlMaxAssertionAgeMs
  const margin = 5_000

  it('an expired assertion is refused', async () => {
    const at = Date.now()
    await expectAcsRefusal(tenantA.connection, { issueInstant: new Date(at - 2 * 60_000), notBefore: new Date(at - 2 * 60_000), notOnOrAfter: new Date(at - skewMs - 60_000) }, { reason: 'times' })
  })

  it('a not-yet-valid assertion is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { notBefore: new Date(Date.now() + 5 * 60_000) }, { reason: 'times' })
  })

  it('an expired SubjectConfirmationData is refused (the Conditions still valid)', async () => {
    await expectAcsRefusal(tenantA.connection, { subjectNotOnOrAfter: new Date(Date.now() - skewMs - 60_000), notOnOrAfter: new Date(Date.now() + 5 * 60_000) }, { reason: 'times' })
  })

  it('an IssueInstant older than sso.samlMaxAssertionAgeMs is refused, one just inside it is accepted', async () => {
    const at = Date.now()
    await expectAcsRefusal(tenantA.connection, { issueInstant: new Date(at - maxAgeMs - skewMs - margin), notBefore: new Date(at - 60_000), notOnOrAfter: new Date(at + 5 * 60_000) }, { reason: 'times' })
    expect(await isAcceptedAtAcs(tenantA.connection, { issueInstant: new Date(Date.now() - maxAgeMs + margin), notBefore: new Date(Date.now() - 60_000), notOnOrAfter: new Date(Date.now() + 5 * 60_000) })).toBe(true)
  })

  it('NotBefore: just inside the clock skew is accepted, just outside is refused', async () => {
    expect(await isAcceptedAtAcs(tenantA.connection, { notBefore: new Date(Date.now() + skewMs - margin) })).toBe(true)
    await expectAcsRefusal(tenantA.connection, { notBefore: new Date(Date.now() + skewMs + margin) }, { reason: 'times' })
  })

  it('NotOnOrAfter: just inside the clock skew is accepted, just outside is refused', async () => {
    const issued = () => new Date(Date.now() - 60_000)
    expect(await isAcceptedAtAcs(tenantA.connection, { issueInstant: issued(), notBefore: issued(), notOnOrAfter: new Date(Date.now() - skewMs + margin) })).toBe(true)
    await expectAcsRefusal(tenantA.connection, { issueInstant: issued(), notBefore: issued(), notOnOrAfter: new Date(Date.now() - skewMs - margin) }, { reason: 'times' })
  })
})

describe('SAML ACS: addressing', () => {
  it('a missing or wrong audience is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { audience: null }, { reason: 'audience' })
    await expectAcsRefusal(tenantA.connection, { audience: 'https://evil.test/sp' }, { reason: 'audience' })
    // Another connection's SP entity ID on this app is just as wrong.
    await expectAcsRefusal(tenantA.connection, { audience: urlsOf(tenantB.connection).entityId }, { reason: 'audience' })
  })

  it('a wrong or missing Destination is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { destination: 'https://evil.test/acs' }, { reason: 'destination_mismatch' })
    await expectAcsRefusal(tenantA.connection, { destination: urlsOf(tenantB.connection).acsUrl }, { reason: 'destination_mismatch' })
    await expectAcsRefusal(tenantA.connection, { destination: null }, { reason: 'destination_missing' })
  })

  it('a wrong Recipient is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { recipient: 'https://evil.test/acs' }, { reason: 'recipient_mismatch' })
    await expectAcsRefusal(tenantA.connection, { recipient: urlsOf(tenantB.connection).acsUrl }, { reason: 'recipient_mismatch' })
  })

  it('a wrong Issuer (of the Assertion, or of the Response) is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { assertionIssuer: 'https://evil.test/idp', responseIssuer: 'https://evil.test/idp' }, { reason: 'assertion_issuer_mismatch' })
    await expectAcsRefusal(tenantA.connection, { assertionIssuer: tenantB.idp.entityId }, { reason: 'assertion_issuer_mismatch' })
    await expectAcsRefusal(tenantA.connection, { responseIssuer: 'https://evil.test/idp' }, { reason: 'response_issuer_mismatch' })
  })
})

describe('SAML ACS: algorithms', () => {
  it('a SHA-1 signature is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { signatureAlgorithm: 'sha1' }, { reason: 'sha1_algorithm' })
  })

  it('a SHA-1 digest is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { digestAlgorithm: 'sha1' }, { reason: 'sha1_algorithm' })
  })
})

describe('SAML ACS: content', () => {
  let dtdServer: Server
  let dtdRequests: string[] = []
  let dtdOrigin = ''

  beforeAll(async () => {
    dtdServer = createServer((request, response) => {
      dtdRequests.push(request.url ?? '')
      response.writeHead(200, { 'content-type': 'application/xml-dtd' })
      response.end('<!ENTITY leak "fetched">')
    })
    await new Promise<void>((resolve) => dtdServer.listen(0, '127.0.0.1', resolve))
    dtdOrigin = `http://127.0.0.1:${(dtdServer.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => dtdServer?.close(() => resolve()))
  })

  it('an EncryptedAssertion is refused', async () => {
    await expectAcsRefusal(tenantA.connection, { encryptedAssertion: true }, { reason: 'encrypted_assertion' })
  })

  it('a status other than Success grants nothing: an unsigned error response, and a signed one', async () => {
    // Unsigned: where the Response signature is required, the missing signature refuses it first …
    await expectAcsRefusal(tenantA.connection, { statusCode: STATUS_RESPONDER, signResponse: false }, { reason: 'signature' })
    // … and where it is not, the status does (with the top-level code only).
    const unsigned = await expectAcsRefusal(assertionOnly, { statusCode: STATUS_RESPONDER, subStatusCode: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed', signResponse: false }, { reason: 'idp_status' })
    expect(unsigned.details.check).toBe(STATUS_RESPONDER)
    const signed = await expectAcsRefusal(tenantA.connection, { statusCode: STATUS_RESPONDER, subStatusCode: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed' }, { reason: 'idp_status' })
    expect(signed.details.check).toBe(STATUS_RESPONDER)
    // An error response that still carries a signed assertion grants nothing either.
    await expectAcsRefusal(tenantA.connection, { statusCode: STATUS_RESPONDER, hasAssertion: true }, { reason: 'idp_status' })
  })

  it.each([
    ['internal entities ("billion laughs")', 'internal_entity'],
    ['an external SYSTEM entity (XXE)', 'external_system_entity'],
    ['a remote DTD', 'remote_dtd'],
  ] as const)('a DOCTYPE with %s is refused fast, with no outbound request', async (_name, doctype) => {
    const { requestId } = await startFlowAt(tenantA.connection)
    const built = responseFor(tenantA.connection, requestId, { doctype })
    const xml = built.xml.replaceAll('http://127.0.0.1:9/', `${dtdOrigin}/`)
    expect(xml).toContain('<!DOCTYPE')
    if (doctype !== 'internal_entity') expect(xml).toContain(dtdOrigin)
    dtdRequests = []
    const before = await snapshotAccountState()
    const started = performance.now()
    const response = await postToAcs(urlsOf(tenantA.connection).acsUrl, Buffer.from(xml, 'utf8').toString('base64'), { ip: nextTestIp() })
    const elapsedMs = performance.now() - started
    await expectRefusalWithNothingWritten(response, before, { status: 400, reason: 'doctype' })
    expect(elapsedMs).toBeLessThan(1_000)
    // Give a (wrongly) started fetch time to arrive before concluding none was made.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(dtdRequests).toEqual([])
  })

  it('an oversized POST is refused with 413', async () => {
    const { requestId } = await startFlowAt(tenantA.connection)
    const padding = 'x'.repeat(appConfig.sso.samlMaxPostBytes)
    const built = responseFor(tenantA.connection, requestId, { attributes: { email: `alice@${domain}`, displayName: padding, groups: [] } })
    const before = await snapshotAccountState()
    const response = await postToAcs(urlsOf(tenantA.connection).acsUrl, built.base64, { ip: nextTestIp() })
    await expectRefusalWithNothingWritten(response, before, { status: 413, reason: 'body_too_large' })
  })

  it('an oversized POST without Content-Length (streamed) is refused with 413 before the whole body is read', async () => {
    // Memory exhaustion: without a declared length, a reader that buffers everything first would
    // hold gigabytes before any size check ran.
    const chunk = new TextEncoder().encode(`SAMLResponse=${'A'.repeat(64 * 1024)}`)
    const totalBytes = 64 * 1024 * 1024
    let pulledBytes = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulledBytes >= totalBytes) return controller.close()
        pulledBytes += chunk.byteLength
        controller.enqueue(chunk)
      },
    })
    const request = new Request(urlsOf(tenantA.connection).acsUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, duplex: 'half' } as RequestInit)
    expect(request.headers.get('content-length')).toBeNull()
    Object.defineProperty(request, 'ip', { value: nextTestIp() })
    const before = await snapshotAccountState()
    const response = await handleSamlAcsRoute(request, tenantA.connection.id)
    await expectRefusalWithNothingWritten(response, before, { status: 413, reason: 'body_too_large' })
    expect(pulledBytes).toBeLessThan(appConfig.sso.samlMaxPostBytes + 4 * chunk.byteLength)
  })
})

describe('SAML ACS: origin of the response', () => {
  it("a response to connection A's request, posted to B's ACS, is refused and leaves A's flow open", async () => {
    const { requestId } = await startFlowAt(tenantA.connection)
    // Everything else is right for B: its IdP's entity ID, its SP entity ID, ACS and Recipient.
    const built = responseFor(tenantB.connection, requestId)
    const before = await snapshotAccountState()
    const response = await postToAcs(urlsOf(tenantB.connection).acsUrl, built.base64, { ip: nextTestIp() })
    await expectRefusalWithNothingWritten(response, before, { status: 400, reason: 'in_response_to' })
    const [flow] = await sql('SELECT answered_at FROM sso_login_flows WHERE connection_id = ? AND nonce = ?', [tenantA.connection.id, requestId])
    expect(flow!.answered_at).toBeNull()
  })

  it('an unknown InResponseTo is refused', async () => {
    await startFlowAt(tenantA.connection)
    const built = responseFor(tenantA.connection, generateSamlRequestId())
    const before = await snapshotAccountState()
    const response = await postToAcs(urlsOf(tenantA.connection).acsUrl, built.base64, { ip: nextTestIp() })
    await expectRefusalWithNothingWritten(response, before, { status: 400, reason: 'in_response_to' })
  })

  it('an unsolicited response (no InResponseTo) is refused while IdP-initiated login is off', async () => {
    expect(tenantA.connection.samlIsIdpInitiatedAllowed).toBe(false)
    const built = responseFor(tenantA.connection, null)
    const before = await snapshotAccountState()
    const response = await postToAcs(urlsOf(tenantA.connection).acsUrl, built.base64, { ip: nextTestIp() })
    await expectRefusalWithNothingWritten(response, before, { status: 400, reason: 'in_response_to' })
  })

  it("an off-site RelayState is ignored: the login lands on the flow's page", async () => {
    const browser = newTestBrowser()
    const { requestId } = await startFlowAt(tenantA.connection, browser, '/settings/security')
    const built = responseFor(tenantA.connection, requestId, { nameId: 'saml-subject-relay', attributes: { email: `relay@${domain}`, displayName: 'Relay', groups: [] } })
    const acs = await postToAcs(urlsOf(tenantA.connection).acsUrl, built.base64, { ip: nextTestIp(), relayState: 'https://evil.test/phish' })
    expect(acs.status).toBe(303)
    expect(new URL(acs.headers.get('location')!, appUrl()).origin).toBe(new URL(appUrl()).origin)
    const completion = await followToCompletion(browser, acs.headers.get('location')!)
    expect(completion.status).toBe(303)
    expect(completion.headers.get('location')).toBe('/settings/security')
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { email: `relay@${domain}` } })
  })
})
