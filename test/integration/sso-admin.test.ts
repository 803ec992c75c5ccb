/**
 * SSO administration by an organization's own admins (SPEC §6 "self-serve"; ADR 014), against the
 * real local provider (oidc-provider 9) where a test sign-in is involved.
 *
 * Threats:
 * - broken object-level authorization (OWASP API1:2023 BOLA): another organization's connection id
 *   or domain answers NOT_FOUND and nothing is written;
 * - a stolen, long-lived admin session changing who can sign in (NIST 800-63B-4 §2.2.3): the
 *   sensitive procedures need a recent re-authentication (REAUTH_REQUIRED);
 * - privilege escalation through the role map: an admin may not map IdP groups to `owner`;
 * - a test that is not a test: the connection doctor goes through the real callback but writes
 *   nothing except its result (no user, session, identity or role; no session cookie);
 * - enabling an untested configuration: a connection is enabled only after a passing test since
 *   its last change;
 * - secret disclosure (OWASP ASVS 13.3): the client secret never appears in a response or the audit log.
 * And the audit log's filters (type, person, time range) for the admin investigating any of it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { User } from '../../db/schema'
import { advanceClockForTests, now, resetClockForTests } from '../../src/server/clock'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { createTestUser, getSetSessionCookie, nextTestIp, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { createMfaTestUser } from '../support/mfa-fixtures'
import { auditEventsOfType, TEST_ISSUER } from '../support/sso-fixtures'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { getSessionCookieName } from '../../src/server/auth/session-cookie'
import { getServerEnv } from '../../src/server/env'
import { expectAppError } from '../support/trpc-errors'
import {
  browserWithSession,
  callerIn,
  deliverCallback,
  inBrowser,
  loginThroughIdp,
  OIDC_CLIENT_SECRET,
  runDoctorTest,
  sessionTokenIn,
  startOidcTestbed,
  type OidcTestbed,
  type OidcTestTenant,
  type TestBrowser,
} from '../support/oidc-fixtures'

const DOMAIN_A = 'admin-a.test'
const DOMAIN_B = 'admin-b.test'
const DOMAIN_C = 'admin-c.test'
/**
 * An admin's mapping (nothing above admin), so the admins here may change and test these
 * connections; a connection that can sign owners in is the owners' (sso-connection-authority.test.ts).
 */
const ROLE_MAP: Record<string, 'admin'> = { 'idp-admins': 'admin' }

const ADA = { email: `ada@${DOMAIN_A}`, password: 'ada-idp-password', name: 'Ada Admin', groups: ['idp-admins'], sub: 'ada-admin-test' }
/** Known to the IdP, never signed in to the app: a real sign-in would provision her. */
const CAROL = { email: `carol@${DOMAIN_A}`, password: 'carol-idp-password', name: 'Carol New', groups: ['idp-admins'], sub: 'carol-admin-test' }
const DAN = { email: `dan@${DOMAIN_C}`, password: 'dan-idp-password', name: 'Dan Tester', groups: [], sub: 'dan-admin-test' }

let testbed: OidcTestbed
let tenantA: OidcTestTenant
let tenantB: OidcTestTenant
let tenantC: OidcTestTenant
let adminA: { user: User } & Awaited<ReturnType<typeof signedInCaller>>
let ownerA: { user: User } & Awaited<ReturnType<typeof signedInCaller>>

/** A fresh (recently re-authenticated) password session of a new user of `organizationId`. */
async function signedInMember(organizationId: string, role: User['role']) {
  const { user } = await createTestUser({ organizationId, role })
  return { user, ...(await signedInCaller(user, { isMfaSatisfied: true, ip: nextTestIp() })) }
}

/** Settings for `organization.sso.update`/`createOidc` (a loopback issuer the test policy accepts). */
function oidcSettings(overrides: Record<string, unknown> = {}) {
  return { displayName: 'Admin Test IdP', issuer: TEST_ISSUER, clientId: 'gatehouse-admin-test', ...overrides }
}

/** The settings of the tenant's live connection (issuer and client registered at the local IdP). */
function liveSettings(tenant: OidcTestTenant, overrides: Record<string, unknown> = {}) {
  return { displayName: tenant.connection.displayName, issuer: testbed.idp.issuer, clientId: tenant.clientId, groupRoleMap: ROLE_MAP, ...overrides }
}

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed(
    [ADA, CAROL, DAN],
    [
      { domain: DOMAIN_A, groupRoleMap: ROLE_MAP },
      { domain: DOMAIN_B, groupRoleMap: ROLE_MAP },
      { domain: DOMAIN_C, groupRoleMap: ROLE_MAP },
    ],
  )
  ;[tenantA, tenantB, tenantC] = testbed.tenants as [OidcTestTenant, OidcTestTenant, OidcTestTenant]
  adminA = await signedInMember(tenantA.organization.id, 'admin')
  ownerA = await signedInMember(tenantA.organization.id, 'owner')
})

afterEach(() => {
  resetClockForTests()
  testbed.idp.setFaults(null)
})

afterAll(async () => {
  await testbed?.stop()
})

type Caller = typeof adminA.caller

describe("another organization's connections and domains (BOLA)", () => {
  const attempts: Array<{ procedure: string; call: (caller: Caller) => Promise<unknown> }> = [
    { procedure: 'organization.sso.get', call: (caller) => caller.organization.sso.get({ connectionId: tenantB.connection.id }) },
    { procedure: 'organization.sso.getTestResult', call: (caller) => caller.organization.sso.getTestResult({ connectionId: tenantB.connection.id }) },
    { procedure: 'organization.sso.startTest', call: (caller) => caller.organization.sso.startTest({ connectionId: tenantB.connection.id }) },
    { procedure: 'organization.sso.update', call: (caller) => caller.organization.sso.update({ connectionId: tenantB.connection.id, ...oidcSettings() }) },
    { procedure: 'organization.sso.update (new secret)', call: (caller) => caller.organization.sso.update({ connectionId: tenantB.connection.id, ...oidcSettings(), clientSecret: 'attacker-secret' }) },
    { procedure: 'organization.sso.setEnabled (off)', call: (caller) => caller.organization.sso.setEnabled({ connectionId: tenantB.connection.id, isEnabled: false }) },
    { procedure: 'organization.sso.setEnabled (on)', call: (caller) => caller.organization.sso.setEnabled({ connectionId: tenantB.connection.id, isEnabled: true }) },
    { procedure: 'organization.sso.delete', call: (caller) => caller.organization.sso.delete({ connectionId: tenantB.connection.id }) },
    { procedure: 'organization.domains.verify', call: (caller) => caller.organization.domains.verify({ domain: DOMAIN_B }) },
    { procedure: "organization.domains.route (B's domain → A's connection)", call: (caller) => caller.organization.domains.route({ domain: DOMAIN_B, connectionId: tenantA.connection.id }) },
    { procedure: "organization.domains.route (A's domain → B's connection)", call: (caller) => caller.organization.domains.route({ domain: DOMAIN_A, connectionId: tenantB.connection.id }) },
    { procedure: 'organization.domains.remove', call: (caller) => caller.organization.domains.remove({ domain: DOMAIN_B }) },
  ]

  it.each(attempts)('$procedure answers NOT_FOUND and writes nothing', async ({ call }) => {
    const before = await tableChecksums()
    await expectAppError(call(adminA.caller), 'NOT_FOUND')
    expect(await tableChecksums()).toEqual(before)
  })

  it("lists show only the organization's own connections and domains", async () => {
    const connections = await adminA.caller.organization.sso.list()
    expect(connections.map((connection) => connection.id)).toEqual([tenantA.connection.id])
    const domains = await adminA.caller.organization.domains.list()
    expect(domains.map((domain) => domain.domain)).toEqual([DOMAIN_A])
  })
})

describe('sensitive procedures need a recent re-authentication', () => {
  const sensitive: Array<{ procedure: string; call: (caller: Caller) => Promise<unknown> }> = [
    { procedure: 'organization.domains.route', call: (caller) => caller.organization.domains.route({ domain: DOMAIN_A, connectionId: null }) },
    { procedure: 'organization.domains.remove', call: (caller) => caller.organization.domains.remove({ domain: DOMAIN_A }) },
    { procedure: 'organization.sso.createOidc', call: (caller) => caller.organization.sso.createOidc({ ...oidcSettings(), clientSecret: 'stale-session-secret' }) },
    { procedure: 'organization.sso.update', call: (caller) => caller.organization.sso.update({ connectionId: tenantA.connection.id, ...liveSettings(tenantA, { displayName: 'Hijacked' }) }) },
    { procedure: 'organization.sso.setEnabled', call: (caller) => caller.organization.sso.setEnabled({ connectionId: tenantA.connection.id, isEnabled: false }) },
    { procedure: 'organization.sso.delete', call: (caller) => caller.organization.sso.delete({ connectionId: tenantA.connection.id }) },
  ]

  it.each(sensitive)('a stale admin session gets REAUTH_REQUIRED from $procedure, nothing written', async ({ call }) => {
    const stale = await signedInMember(tenantA.organization.id, 'admin')
    await sql('UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE id = ?', [stale.sessionId])
    const before = await tableChecksums()
    await expectAppError(call(stale.caller), 'REAUTH_REQUIRED')
    expect(await tableChecksums()).toEqual(before)
  })

  it('a stale owner session gets REAUTH_REQUIRED from organization.setSsoPolicy', async () => {
    const stale = await signedInMember(tenantA.organization.id, 'owner')
    await sql('UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE id = ?', [stale.sessionId])
    const before = await tableChecksums()
    await expectAppError(stale.caller.organization.setSsoPolicy({ isEnforced: false, breakGlassUserId: null, mfaMode: 'trust_idp_mfa' }), 'REAUTH_REQUIRED')
    expect(await tableChecksums()).toEqual(before)
  })
})

describe('roles: the map cannot exceed its editor, enforcement is for owners', () => {
  const escalations: Array<{ attempt: string; call: (caller: Caller) => Promise<unknown> }> = [
    { attempt: 'createOidc mapping a group to owner', call: (caller) => caller.organization.sso.createOidc({ ...oidcSettings({ groupRoleMap: { 'idp-everyone': 'owner' } }), clientSecret: 'escalation-secret' }) },
    { attempt: 'createOidc with owner as the default role', call: (caller) => caller.organization.sso.createOidc({ ...oidcSettings({ defaultRole: 'owner' }), clientSecret: 'escalation-secret' }) },
    { attempt: 'update mapping a group to owner', call: (caller) => caller.organization.sso.update({ connectionId: tenantA.connection.id, ...liveSettings(tenantA, { groupRoleMap: { 'idp-admins': 'owner' } }) }) },
  ]

  it.each(escalations)('an admin is FORBIDDEN: $attempt, nothing written', async ({ call }) => {
    const before = await tableChecksums()
    await expectAppError(call(adminA.caller), 'FORBIDDEN')
    expect(await tableChecksums()).toEqual(before)
  })

  it('the other side of the rule: an owner may map a group to owner', async () => {
    const created = await ownerA.caller.organization.sso.createOidc({ ...oidcSettings({ groupRoleMap: { 'idp-founders': 'owner' } }), clientSecret: 'owner-map-secret' })
    expect(created).toMatchObject({ status: 'draft', groupRoleMap: { 'idp-founders': 'owner' } })
    await ownerA.caller.organization.sso.delete({ connectionId: created.id })
  })

  it('an admin cannot set the SSO policy: FORBIDDEN, nothing written', async () => {
    const before = await tableChecksums()
    await expectAppError(adminA.caller.organization.setSsoPolicy({ isEnforced: true, breakGlassUserId: ownerA.user.id, mfaMode: 'require_gatehouse_mfa' }), 'FORBIDDEN')
    await expectAppError(adminA.caller.organization.setSsoPolicy({ isEnforced: false, breakGlassUserId: null, mfaMode: 'trust_idp_mfa' }), 'FORBIDDEN')
    expect(await tableChecksums()).toEqual(before)
  })
})

describe('the connection doctor writes nothing but its result', () => {
  let adaBrowser: TestBrowser

  beforeAll(async () => {
    adaBrowser = (await loginThroughIdp(ADA)).browser
  })

  /** Every column of the connection row except the doctor's two. */
  async function connectionRowWithoutTestColumns(connectionId: string) {
    const [row] = await sql('SELECT * FROM sso_connections WHERE id = ?', [connectionId])
    const { last_test_result: _result, last_tested_at: _testedAt, ...rest } = row!
    return rest
  }

  async function untouchedTables() {
    const { users, sessions, sso_identities, organizations } = await tableChecksums()
    return { users, sessions, sso_identities, organizations }
  }

  const signIns = [
    { who: 'a person the app has never seen (a real sign-in would provision her)', credentials: CAROL, isSuccessful: true },
    { who: 'the admin herself (a real sign-in would refresh her identity and role)', credentials: ADA, isSuccessful: true },
    { who: 'a response with a corrupted ID token signature (the failure is recorded)', credentials: ADA, isSuccessful: false, faults: { idToken: { signature: 'corrupt' as const } } },
  ]

  it.each(signIns)('test sign-in as $who', async ({ credentials, isSuccessful, faults }) => {
    const tokenBefore = sessionTokenIn(adaBrowser)
    const [sessionBefore] = await sql('SELECT * FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)', [ADA.email])
    const tablesBefore = await untouchedTables()
    const rowBefore = await connectionRowWithoutTestColumns(tenantA.connection.id)
    const startedAt = now()
    if (faults) testbed.idp.setFaults(faults)

    const response = await runDoctorTest(adaBrowser, tenantA.connection.id, credentials)

    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe(`/admin/sso/${tenantA.connection.id}?test=done`)
    expect(getSetSessionCookie(response.headers)).toBeNull()
    expect(sessionTokenIn(adaBrowser)).toBe(tokenBefore)
    expect(await untouchedTables()).toEqual(tablesBefore)
    expect(await connectionRowWithoutTestColumns(tenantA.connection.id)).toEqual(rowBefore)
    const [sessionAfter] = await sql('SELECT * FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)', [ADA.email])
    expect(sessionAfter).toEqual(sessionBefore)
    expect(await sql('SELECT id FROM users WHERE email = ?', [CAROL.email])).toEqual([])

    const { result, testedAt } = await callerIn(adaBrowser).organization.sso.getTestResult({ connectionId: tenantA.connection.id })
    expect(new Date(testedAt!).getTime()).toBeGreaterThanOrEqual(Math.floor(startedAt.getTime() / 1000) * 1000 - 1000)
    expect(result?.isSuccessful).toBe(isSuccessful)
    if (isSuccessful) expect(result?.claims).toMatchObject({ email: credentials.email, emailVerified: true, mappedRole: 'admin' })
  })
})

describe('the connection doctor is bound to the session that asked', () => {
  it('a test flow completed in a browser holding another session records nothing (403)', async () => {
    const { browser } = await loginThroughIdp(ADA)
    const { url } = await inBrowser(browser, (caller) => caller.organization.sso.startTest({ connectionId: tenantA.connection.id }))
    // The same device (binding cookie), now presenting another admin's session.
    const swapped: TestBrowser = { ip: browser.ip, cookies: new Map(browser.cookies) }
    swapped.cookies.set(getSessionCookieName(getServerEnv().appUrl), adminA.token)
    const callbackUrl = await signInAtLocalIdp(url, ADA)
    const [resultBefore] = await sql('SELECT last_test_result, last_tested_at FROM sso_connections WHERE id = ?', [tenantA.connection.id])
    const { users, sessions, sso_identities, organizations, sso_connections } = await tableChecksums()

    const response = await deliverCallback(swapped, callbackUrl)

    expect(response.status).toBe(403)
    expect(getSetSessionCookie(response.headers)).toBeNull()
    const [resultAfter] = await sql('SELECT last_test_result, last_tested_at FROM sso_connections WHERE id = ?', [tenantA.connection.id])
    expect(resultAfter).toEqual(resultBefore)
    const after = await tableChecksums()
    expect({ users: after.users, sessions: after.sessions, sso_identities: after.sso_identities, organizations: after.organizations, sso_connections: after.sso_connections }).toEqual({ users, sessions, sso_identities, organizations, sso_connections })
    expect((await auditEventsOfType('sso.sign_in.failed')).at(-1)?.details).toMatchObject({ reason: 'reauth_session_mismatch', connectionId: tenantA.connection.id })
  })
})

describe('a connection is enabled only after a passing test since its last change', () => {
  let owner: Awaited<ReturnType<typeof createMfaTestUser>>
  let ownerBrowser: TestBrowser

  beforeAll(async () => {
    // The break-glass owner of C, with a fresh password + TOTP session (may also enforce SSO).
    owner = await createMfaTestUser({ role: 'owner', organizationId: tenantC.organization.id, email: `owner@${DOMAIN_C}` })
    ownerBrowser = browserWithSession((await signedInCaller(owner.user, { isMfaSatisfied: true })).token)
  })

  const inOwnerBrowser = <T,>(call: (caller: Caller) => Promise<T>) => inBrowser(ownerBrowser, call)
  const testResultOfC = () => inOwnerBrowser((caller) => caller.organization.sso.getTestResult({ connectionId: tenantC.connection.id }))

  it('a change right after a passing test voids it (the result described the old settings)', async () => {
    expect((await runDoctorTest(ownerBrowser, tenantC.connection.id, DAN)).status).toBe(303)
    expect(await testResultOfC()).toMatchObject({ isTestedSinceLastChange: true, result: { isSuccessful: true } })

    await inOwnerBrowser((caller) => caller.organization.sso.update({ connectionId: tenantC.connection.id, ...liveSettings(tenantC, { displayName: 'Renamed right after the test' }) }))

    expect(await testResultOfC()).toEqual({ isTestedSinceLastChange: false, result: null, testedAt: null })
  })

  it('disable → change → enable is refused (nothing written) → test → enable → enforce', async () => {
    expect(await inOwnerBrowser((caller) => caller.organization.sso.setEnabled({ connectionId: tenantC.connection.id, isEnabled: false }))).toMatchObject({ connection: { status: 'disabled' } })
    advanceClockForTests(2_000)
    await inOwnerBrowser((caller) => caller.organization.sso.update({ connectionId: tenantC.connection.id, ...liveSettings(tenantC, { displayName: 'Changed IdP' }) }))
    expect(await testResultOfC()).toMatchObject({ isTestedSinceLastChange: false })

    const before = await tableChecksums()
    const refused = await expectAppError(inOwnerBrowser((caller) => caller.organization.sso.setEnabled({ connectionId: tenantC.connection.id, isEnabled: true })), 'FORBIDDEN')
    expect(refused.message).toMatch(/successful test sign-in/)
    expect(await tableChecksums()).toEqual(before)

    // The doctor runs on a disabled connection (that is what testing is for).
    expect((await runDoctorTest(ownerBrowser, tenantC.connection.id, DAN)).status).toBe(303)
    expect(await testResultOfC()).toMatchObject({ isTestedSinceLastChange: true, result: { isSuccessful: true } })
    // The owner takes a moment before clicking "Enable"; enabling is not a change of the settings tested.
    advanceClockForTests(2_000)
    expect(await inOwnerBrowser((caller) => caller.organization.sso.setEnabled({ connectionId: tenantC.connection.id, isEnabled: true }))).toMatchObject({ connection: { status: 'enabled' } })
    expect(await testResultOfC()).toMatchObject({ isTestedSinceLastChange: true })
    expect(await inOwnerBrowser((caller) => caller.organization.setSsoPolicy({ isEnforced: true, breakGlassUserId: owner.user.id, mfaMode: 'require_gatehouse_mfa' }))).toMatchObject({ isEnforced: true })
  })
})

describe('the client secret never leaves the server', () => {
  const FIRST_SECRET = 'first-client-secret-value-0a1b2c'
  const SECOND_SECRET = 'second-client-secret-value-3d4e5f'
  const SECRETS = [FIRST_SECRET, SECOND_SECRET, OIDC_CLIENT_SECRET]

  it('appears in no response and no audit event', async () => {
    const responses: unknown[] = []
    const seen = async <T,>(call: Promise<T>) => {
      const response = await call
      responses.push(response)
      return response
    }
    const { caller } = ownerA
    const created = await seen(caller.organization.sso.createOidc({ ...oidcSettings({ displayName: 'Secret IdP' }), clientSecret: FIRST_SECRET }))
    await seen(caller.organization.sso.update({ connectionId: created.id, ...oidcSettings({ displayName: 'Secret IdP renamed' }), clientSecret: SECOND_SECRET }))
    await seen(caller.organization.sso.get({ connectionId: created.id }))
    await seen(caller.organization.sso.getTestResult({ connectionId: created.id }))
    // The live connection, after real test sign-ins with its secret.
    await seen(caller.organization.sso.get({ connectionId: tenantA.connection.id }))
    await seen(caller.organization.sso.getTestResult({ connectionId: tenantA.connection.id }))
    await seen(caller.organization.sso.list())
    await seen(caller.organization.domains.list())
    await seen(caller.organization.sso.delete({ connectionId: created.id }))
    await seen(caller.admin.audit.list({ limit: 100 }))
    expect(created).toMatchObject({ hasClientSecret: true })

    const serialized = JSON.stringify(responses)
    for (const secret of SECRETS) expect(serialized).not.toContain(secret)
    const events = await sql('SELECT type, details FROM audit_events')
    expect(events.length).toBeGreaterThan(0)
    const auditText = JSON.stringify(events)
    for (const secret of SECRETS) expect(auditText).not.toContain(secret)
    const rows = JSON.stringify(await sql('SELECT * FROM sso_connections'))
    for (const secret of SECRETS) expect(rows).not.toContain(secret)
  })
})

describe('audit log filters', () => {
  it('filter by type, by person (actor or subject) and by time range', async () => {
    const { caller } = adminA
    const first = `filter-one.${DOMAIN_A}`
    const second = `filter-two.${DOMAIN_A}`
    await caller.organization.domains.add({ domain: first })
    advanceClockForTests(2 * 60 * 60 * 1000)
    await caller.organization.domains.add({ domain: second })
    const midpoint = new Date(now().getTime() - 60 * 60 * 1000).toISOString()
    const domainOf = (event: { details: Record<string, unknown> }) => event.details.domain

    const byType = await caller.admin.audit.list({ type: 'domain.added' })
    expect(byType.events.every((event) => event.type === 'domain.added')).toBe(true)
    expect(byType.events.map(domainOf)).toEqual(expect.arrayContaining([first, second]))

    const byActor = await caller.admin.audit.list({ userId: adminA.user.id })
    expect(byActor.events.length).toBeGreaterThan(0)
    expect(byActor.events.every((event) => event.actorUserId === adminA.user.id || event.subjectUserId === adminA.user.id)).toBe(true)
    expect(byActor.events.map(domainOf)).toEqual(expect.arrayContaining([first, second]))
    const byOwner = await caller.admin.audit.list({ userId: ownerA.user.id, type: 'domain.added' })
    expect(byOwner.events).toEqual([])

    const after = await caller.admin.audit.list({ type: 'domain.added', from: midpoint })
    expect(after.events.map(domainOf)).toEqual([second])
    const before = await caller.admin.audit.list({ type: 'domain.added', to: midpoint })
    expect(before.events.map(domainOf)).toContain(first)
    expect(before.events.map(domainOf)).not.toContain(second)
    const window = await caller.admin.audit.list({ from: new Date(now().getTime() - 60_000).toISOString(), to: new Date(now().getTime() + 60_000).toISOString() })
    expect(window.events.map((event) => event.type)).toEqual(['domain.added'])
  })
})
