/**
 * The local SAML IdP (`scripts/idp/saml-idp.ts`) and the hostile-response builder
 * (`test/support/saml-responses.ts`) checked against @node-saml/node-saml 5.1.0 configured exactly
 * as the app configures it (`buildSaml`, the flow-table cacheProvider), so the ACS tests can rely on
 * both: a good response validates; hostile ones are refused by node-saml or by the pre-parse checks.
 * Also: the cacheProvider keys request ids by connection (IdP mix-up), claims a flow once
 * (replays, races), and marks it answered without deleting it; the replay store refuses an
 * assertion ID twice.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Profile, SAML } from '@node-saml/node-saml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateSamlSigningKeys } from '../../scripts/idp/saml-response-xml'
import { signInAtLocalSamlIdp, startLocalSamlIdp, type LocalSamlIdp } from '../../scripts/idp/saml-idp'
import appConfig from '../../app.config'
import type { SsoConnection } from '../../db/schema'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { createSsoLoginFlow, generateFlowRandomValue } from '../../src/server/sso/login-flows'
import { mapSamlProfileToClaims, readSamlAssertionFacts } from '../../src/server/sso/saml/saml-attributes'
import { buildSaml, generateSamlRequestId } from '../../src/server/sso/saml/saml-config'
import { importSamlIdpMetadata, getSamlServiceProviderUrls } from '../../src/server/sso/saml/saml-metadata'
import { preparseSamlResponse } from '../../src/server/sso/saml/saml-preparse'
import { purgeExpiredSsoConsumedAssertions, recordConsumedSamlAssertion } from '../../src/server/sso/saml/saml-replay-store'
import { createSamlRequestCache } from '../../src/server/sso/saml/saml-request-cache'
import { createTestOrganization, sql } from '../support/auth-fixtures'
import { createTestSamlConnection } from '../support/saml-fixtures'
import { buildSamlTestResponse, createSamlTestKeys, type SamlTestResponseOptions } from '../support/saml-responses'

const APP_URL = 'http://localhost:3000'
const ALICE = { email: 'alice@globex.test', password: 'alice-saml-password', displayName: 'Alice Globex', groups: ['globex-admins', 'staff'], nameId: 'alice-persistent-id' }
const EMAIL_NAMEID_USER = { email: 'erin@globex.test', password: 'erin-saml-password', displayName: 'Erin', isEmailNameId: true }

let idp: LocalSamlIdp
let connection: SsoConnection
let otherConnection: SsoConnection
const idpKeys = createSamlTestKeys('local-idp-test')

beforeAll(async () => {
  idp = await startLocalSamlIdp({ port: 0, keys: loadOrCreateSamlSigningKeys(mkdtempSync(join(tmpdir(), 'saml-idp-'))), users: [ALICE, EMAIL_NAMEID_USER] })
  const organization = await createTestOrganization()
  const imported = importSamlIdpMetadata(await (await fetch(idp.metadataUrl)).text())
  if (imported.status !== 'selected') throw new Error('expected one IdP')
  connection = await createTestSamlConnection(organization.id, {
    samlIdpEntityId: imported.idp.entityId,
    samlIdpSsoUrl: imported.idp.ssoUrl,
    samlIdpCertificates: imported.idp.signingCertificates,
  })
  // A second connection trusting the builder's key, for hand-built responses.
  otherConnection = await createTestSamlConnection(organization.id, {
    samlIdpEntityId: 'https://idp.other.test/metadata',
    samlIdpSsoUrl: 'https://idp.other.test/sso',
    samlIdpCertificates: [idpKeys.certificatePem],
  })
})

afterAll(async () => {
  await idp?.stop()
})

/** Starts a flow whose nonce is the AuthnRequest id, as the start route will. */
async function startFlow(target: SsoConnection, options: { isForceAuthn?: boolean } = {}) {
  const requestId = generateSamlRequestId()
  const { flow } = await createSsoLoginFlow({ db: getDb(), now: now() }, { connectionId: target.id, purpose: 'sign_in', redirectTo: '/', browserBinding: generateFlowRandomValue(), hasPkce: false, nonce: requestId })
  const saml = buildSaml(target, { appUrl: APP_URL, cacheProvider: createSamlRequestCache({ db: getDb(), now: now() }, target.id), requestId, ...options })
  return { flow, requestId, authorizeUrl: await saml.getAuthorizeUrlAsync('', undefined, {}) }
}

/** Validates a POSTed SAMLResponse as the ACS will: pre-parse, then node-saml with a fresh per-request cache. */
type Validation = { profile: Profile; answeredFlowId: string | null } | { refusal: string }

async function validate(target: SsoConnection, samlResponse: string, options: { isIdpInitiated?: boolean } = {}): Promise<Validation> {
  const pre = preparseSamlResponse(samlResponse, { maxBytes: 256 * 1024 })
  if (!pre.isAccepted) return { refusal: `preparse:${pre.reason}` }
  const cache = createSamlRequestCache({ db: getDb(), now: now() }, target.id)
  const saml: SAML = buildSaml(target, { appUrl: APP_URL, cacheProvider: cache, ...options })
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse })
    if (!profile) return { refusal: 'no_profile' }
    return { profile, answeredFlowId: cache.getAnsweredFlowId() }
  } catch (error) {
    return { refusal: `node-saml:${(error as Error).message}` }
  }
}

describe('local SAML IdP validated by node-saml 5.1.0', () => {
  it('serves metadata the import understands (entity ID, HTTP-Redirect SSO URL, its certificate)', () => {
    expect(connection.samlIdpEntityId).toBe(idp.entityId)
    expect(connection.samlIdpSsoUrl).toBe(idp.ssoUrl)
    expect(connection.samlIdpCertificates![0]!.replace(/\s+/g, '')).toBe(idp.certificatePem.replace(/\s+/g, ''))
  })

  it('signs in a demo user: the response validates, maps to claims, and answers the flow without deleting it', async () => {
    const { flow, requestId, authorizeUrl } = await startFlow(connection)
    const posted = await signInAtLocalSamlIdp(authorizeUrl, ALICE)
    expect(posted.acsUrl).toBe(getSamlServiceProviderUrls(APP_URL, connection.id).acsUrl)
    expect(idp.requests.at(-1)).toMatchObject({ id: requestId, isForceAuthn: false })
    const xml = Buffer.from(posted.SAMLResponse, 'base64').toString('utf8')
    expect(xml.match(/<ds:Signature[\s>]/g)).toHaveLength(2)
    expect(xml).toContain('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')
    expect(xml).toContain('http://www.w3.org/2001/10/xml-exc-c14n#')

    const result = await validate(connection, posted.SAMLResponse)
    if (!('profile' in result)) throw new Error(result.refusal)
    expect(result.answeredFlowId).toBe(flow.id)
    expect(result.profile.issuer).toBe(idp.entityId)
    expect(mapSamlProfileToClaims(result.profile, connection)).toMatchObject({
      subject: 'alice-persistent-id',
      email: 'alice@globex.test',
      isEmailVerifiedByIdp: false,
      name: 'Alice Globex',
      groups: ['globex-admins', 'staff'],
      acr: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    })
    const facts = readSamlAssertionFacts(result.profile)
    expect(facts.bearerConfirmations).toEqual([expect.objectContaining({ recipient: posted.acsUrl, inResponseTo: requestId })])
    expect(Math.abs(facts.authnInstant!.getTime() - Date.now())).toBeLessThan(10_000)

    const [row] = await sql('SELECT answered_at, consumed_at FROM sso_login_flows WHERE id = ?', [flow.id])
    expect(row!.answered_at).not.toBeNull()
    expect(row!.consumed_at).toBeNull()

    // The same response again: the request id is answered, so node-saml refuses it (replay).
    expect(await validate(connection, posted.SAMLResponse)).toEqual({ refusal: 'node-saml:InResponseTo is not valid' })
  })

  it('sends an emailAddress NameID for such users and honours ForceAuthn in the request it parses', async () => {
    const { authorizeUrl } = await startFlow(connection, { isForceAuthn: true })
    expect(idp.requests.at(-1)!.isForceAuthn).toBe(false)
    const posted = await signInAtLocalSamlIdp(authorizeUrl, EMAIL_NAMEID_USER)
    expect(idp.requests.at(-1)!.isForceAuthn).toBe(true)
    const result = await validate(connection, posted.SAMLResponse)
    if (!('profile' in result)) throw new Error(result.refusal)
    expect(mapSamlProfileToClaims(result.profile, connection)).toMatchObject({ subject: 'erin@globex.test', email: 'erin@globex.test' })
  })

  it('refuses to start under NODE_ENV=production', async () => {
    const previous = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      await expect(startLocalSamlIdp({ port: 0, keys: idpKeys, users: [] })).rejects.toThrow(/never runs with NODE_ENV=production/)
    } finally {
      process.env.NODE_ENV = previous
    }
  })

  it('refuses an AuthnRequest whose ACS URL is not the requesting SP\'s', async () => {
    const { authorizeUrl } = await startFlow(connection)
    const url = new URL(authorizeUrl)
    const { deflateRawSync, inflateRawSync } = await import('node:zlib')
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8').replace(/AssertionConsumerServiceURL="[^"]+"/, 'AssertionConsumerServiceURL="https://evil.test/acs"')
    url.searchParams.set('SAMLRequest', deflateRawSync(Buffer.from(xml)).toString('base64'))
    expect((await fetch(url)).status).toBe(400)
  })

  it('a wrong password gets no response', async () => {
    const { authorizeUrl } = await startFlow(connection)
    await expect(signInAtLocalSamlIdp(authorizeUrl, { email: ALICE.email, password: 'wrong' })).rejects.toThrow(/wrong password/)
  })

  it("a response to connection A's request posted to B's ACS is refused (request ids are per connection)", async () => {
    const { authorizeUrl } = await startFlow(connection)
    const posted = await signInAtLocalSamlIdp(authorizeUrl, ALICE)
    const crossed = await validate({ ...otherConnection, samlIdpCertificates: [idp.certificatePem, idpKeys.certificatePem] }, posted.SAMLResponse)
    expect(crossed).toEqual({ refusal: 'node-saml:InResponseTo is not valid' })
    // A still accepts it: B's attempt did not spend A's flow.
    expect('profile' in (await validate(connection, posted.SAMLResponse))).toBe(true)
  })
})

describe('hand-built responses validated by node-saml 5.1.0', () => {
  const spUrls = () => getSamlServiceProviderUrls(APP_URL, otherConnection.id)
  const build = async (options: Partial<SamlTestResponseOptions> = {}) => {
    const { requestId } = await startFlow(otherConnection)
    return buildSamlTestResponse({ keys: idpKeys, idpEntityId: otherConnection.samlIdpEntityId!, spEntityId: spUrls().entityId, acsUrl: spUrls().acsUrl, inResponseTo: requestId, ...options })
  }

  it('a good response validates and its profile equals the signed values', async () => {
    const built = await build()
    const result = await validate(otherConnection, built.base64)
    if (!('profile' in result)) throw new Error(result.refusal)
    expect(readSamlAssertionFacts(result.profile).assertionId).toBe(built.assertionId)
    expect(mapSamlProfileToClaims(result.profile, otherConnection)).toMatchObject({ subject: 'saml-subject-alice', email: 'alice@globex.test', groups: ['globex-admins', 'staff'] })
  })

  it('builds ~5 ms responses (both parts signed)', () => {
    const started = performance.now()
    for (let i = 0; i < 20; i++) buildSamlTestResponse({ keys: idpKeys, idpEntityId: 'https://idp', spEntityId: 'https://sp', acsUrl: 'https://sp/acs', inResponseTo: '_r' })
    expect((performance.now() - started) / 20).toBeLessThan(50)
  })

  it.each([
    ['an unsigned response', { signResponse: false, signAssertion: false }, /Invalid document signature/],
    ['only the assertion signed (the Response signature is required)', { signResponse: false }, /Invalid document signature/],
    ['only the response signed (the Assertion signature is required)', { signAssertion: false }, /Invalid signature/],
    ['signed by another key with its certificate in KeyInfo', { signingKeys: createSamlTestKeys('attacker') }, /Invalid document signature/],
    ['a NameID altered after signing', { alterAfterSigning: { nameId: 'mallory' } }, /Invalid document signature/],
    // node-saml checks SubjectConfirmationData times (with the same bounds) before Conditions, hence its message.
    ['an expired assertion', { now: new Date(Date.now() - 10 * 60_000) }, /No valid subject confirmation|expired/],
    ['an expired SubjectConfirmationData', { subjectNotOnOrAfter: new Date(Date.now() - 60_000) }, /No valid subject confirmation/],
    ['a not-yet-valid assertion', { notBefore: new Date(Date.now() + 5 * 60_000) }, /not yet valid/],
    ['an IssueInstant older than the configured bound', { issueInstant: new Date(Date.now() - 6 * 60_000), notOnOrAfter: new Date(Date.now() + 60_000) }, /No valid subject confirmation|too old/],
    ['a missing audience', { audience: null }, /AudienceRestriction/],
    ['a wrong audience', { audience: 'https://evil.test/sp' }, /audience mismatch/],
    // With wantAuthnResponseSigned an unsigned error response fails on the signature first: it grants nothing either way.
    ['a non-Success status (unsigned)', { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder', signResponse: false }, /Invalid document signature/],
    ['a non-Success status (signed): SamlStatusError', { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder', subStatusCode: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed' }, /SAML provider returned Responder error: AuthnFailed/],
  ] as const)('refuses %s', async (_name, options, message) => {
    const result = await validate(otherConnection, (await build(options as Partial<SamlTestResponseOptions>)).base64)
    expect('refusal' in result ? result.refusal : 'accepted').toMatch(message)
  })

  // Assertion-level defences, on a connection that accepts assertion-only signing: with the
  // Response signature required these would fail on it alone and prove nothing about wrapping.
  it('an assertion-only signed response validates on a connection that accepts it (so the refusals below are meaningful)', async () => {
    const result = await validate({ ...otherConnection, samlWantAuthnResponseSigned: false }, (await build({ signResponse: false })).base64)
    expect('profile' in result).toBe(true)
  })

  it.each([
    ['an unsigned response', { signAssertion: false }, /Invalid signature/],
    ['an email altered after signing', { alterAfterSigning: { attribute: { name: 'email', value: 'mallory@globex.test' } } }, /^node-saml:Invalid signature$/],
    ['an evil assertion before the signed one', { wrapping: 'evil_before' }, /multiple assertions/],
    ['an evil assertion after the signed one', { wrapping: 'evil_after' }, /multiple assertions/],
    ['the signed assertion nested in the evil one', { wrapping: 'signed_nested_in_evil' }, /^node-saml:Invalid signature$/],
    ['the signed assertion inside Extensions', { wrapping: 'signed_in_extensions' }, /^node-saml:Invalid signature$/],
    ['the signed assertion inside ds:Object', { wrapping: 'signed_in_object' }, /Invalid signature/],
    ['a duplicate ID', { wrapping: 'duplicate_id' }, /^node-saml:Invalid signature$/],
    ['two SignedInfo (refused by xml-crypto, CVE-2025-29774 fix)', { twoSignedInfo: true }, /multiple SignedInfo/],
    ['a comment inside DigestValue', { commentInDigestValue: true }, /^node-saml:Invalid signature$/],
  ] as const)('refuses %s (assertion-only signing)', async (_name, options, message) => {
    const result = await validate({ ...otherConnection, samlWantAuthnResponseSigned: false }, (await build({ signResponse: false, ...options } as Partial<SamlTestResponseOptions>)).base64)
    expect('refusal' in result ? result.refusal : 'accepted').toMatch(message)
  })

  it.each([
    ['a SHA-1 signature', { signatureAlgorithm: 'sha1' }, 'preparse:sha1_algorithm'],
    ['a SHA-1 digest', { digestAlgorithm: 'sha1' }, 'preparse:sha1_algorithm'],
    ['an EncryptedAssertion', { encryptedAssertion: true }, 'preparse:encrypted_assertion'],
    ['a DOCTYPE with internal entities', { doctype: 'internal_entity' }, 'preparse:doctype'],
    ['an external SYSTEM entity', { doctype: 'external_system_entity' }, 'preparse:doctype'],
    ['a remote DTD', { doctype: 'remote_dtd' }, 'preparse:doctype'],
  ] as const)('refuses %s before parsing', async (_name, options, refusal) => {
    expect(await validate(otherConnection, (await build(options as Partial<SamlTestResponseOptions>)).base64)).toEqual({ refusal })
  })

  it('node-saml does NOT check Destination, Recipient or the Issuer: the app must (readSamlAssertionFacts)', async () => {
    const built = await build({ destination: 'https://evil.test/acs', recipient: 'https://evil.test/acs', assertionIssuer: 'https://evil.test/idp', responseIssuer: 'https://evil.test/idp' })
    const result = await validate(otherConnection, built.base64)
    if (!('profile' in result)) throw new Error(result.refusal)
    expect(result.profile.issuer).toBe('https://evil.test/idp')
    expect(readSamlAssertionFacts(result.profile).bearerConfirmations[0]!.recipient).toBe('https://evil.test/acs')
    expect(result.profile.getSamlResponseXml!()).toContain('Destination="https://evil.test/acs"')
  })

  it('a comment inside the NameID or the email never yields the truncated value', async () => {
    const built = await build({ nameId: 'alice@globex.test.evil.test', commentInNameIdAt: 'alice@globex.test'.length, commentInEmailAt: 'alice@globex.test'.length, attributes: { email: 'alice@globex.test.evil.test' } })
    const result = await validate(otherConnection, built.base64)
    if (!('profile' in result)) throw new Error(result.refusal)
    // The signature covers the comment-free canonical text; node-saml 5.1.0 returns all of it.
    const claims = mapSamlProfileToClaims(result.profile, otherConnection)
    expect(claims.subject).toBe('alice@globex.test.evil.test')
    expect(claims.email).toBe('alice@globex.test.evil.test')
  })

  it('honours the configured clock skew at its boundaries (NotBefore and NotOnOrAfter)', async () => {
    const skewMs = appConfig.sso.samlAcceptedClockSkewMs
    const margin = 3_000
    const accepted = async (options: Partial<SamlTestResponseOptions>) => 'profile' in (await validate(otherConnection, (await build(options)).base64))
    expect(await accepted({ notBefore: new Date(Date.now() + skewMs - margin) })).toBe(true)
    expect(await accepted({ notBefore: new Date(Date.now() + skewMs + margin) })).toBe(false)
    const issued = new Date(Date.now() - 60_000)
    expect(await accepted({ issueInstant: issued, notOnOrAfter: new Date(Date.now() - skewMs + margin) })).toBe(true)
    expect(await accepted({ issueInstant: issued, notOnOrAfter: new Date(Date.now() - skewMs - margin) })).toBe(false)
  })

  it('an unsolicited response is refused unless the connection allows IdP-initiated login', async () => {
    const built = buildSamlTestResponse({ keys: idpKeys, idpEntityId: otherConnection.samlIdpEntityId!, spEntityId: spUrls().entityId, acsUrl: spUrls().acsUrl, inResponseTo: null })
    expect(await validate(otherConnection, built.base64)).toEqual({ refusal: 'node-saml:InResponseTo is missing from response' })
    expect('profile' in (await validate({ ...otherConnection, samlIsIdpInitiatedAllowed: true }, built.base64, { isIdpInitiated: true }))).toBe(true)
  })
})

describe('flow-table cacheProvider and replay store', () => {
  it('two racing validations of one response: exactly one claims the flow', async () => {
    const { requestId } = await startFlow(otherConnection)
    const caches = [0, 1].map(() => createSamlRequestCache({ db: getDb(), now: now() }, otherConnection.id))
    const answers = await Promise.all(caches.map((cache) => cache.getAsync(requestId)))
    expect(answers.filter((answer) => answer !== null)).toHaveLength(1)
    // The winner may ask again within its validation (SubjectConfirmationData@InResponseTo).
    const winner = caches[answers.findIndex((answer) => answer !== null)]!
    expect(await winner.getAsync(requestId)).not.toBeNull()
  })

  it("another connection's cache never sees the request id; removeAsync marks, never deletes", async () => {
    const { flow, requestId } = await startFlow(otherConnection)
    expect(await createSamlRequestCache({ db: getDb(), now: now() }, connection.id).getAsync(requestId)).toBeNull()
    await createSamlRequestCache({ db: getDb(), now: now() }, otherConnection.id).removeAsync(requestId)
    const [row] = await sql('SELECT answered_at FROM sso_login_flows WHERE id = ?', [flow.id])
    expect(row!.answered_at).not.toBeNull()
    expect(await createSamlRequestCache({ db: getDb(), now: now() }, otherConnection.id).getAsync(requestId)).toBeNull()
  })

  it('refuses to build an AuthnRequest for a request id without a flow', async () => {
    const saml = buildSaml(otherConnection, { appUrl: APP_URL, cacheProvider: createSamlRequestCache({ db: getDb(), now: now() }, otherConnection.id), requestId: generateSamlRequestId() })
    await expect(saml.getAuthorizeUrlAsync('', undefined, {})).rejects.toThrow(/no open login flow/)
  })

  it('records an assertion ID once per connection, even concurrently, and purges it after expiry', async () => {
    const input = { connectionId: otherConnection.id, assertionId: generateSamlRequestId(), notOnOrAfter: new Date(Date.now() + 60_000), clockSkewMs: 30_000 }
    const results = await Promise.all([0, 1, 2].map(() => recordConsumedSamlAssertion({ db: getDb(), now: now() }, input)))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await recordConsumedSamlAssertion({ db: getDb(), now: now() }, { ...input, connectionId: connection.id })).toBe(true)
    expect(await purgeExpiredSsoConsumedAssertions(getDb(), new Date(Date.now() + 60_000))).toBe(0)
    expect(await purgeExpiredSsoConsumedAssertions(getDb(), new Date(Date.now() + 120_000))).toBeGreaterThanOrEqual(2)
  })
})
