/**
 * SSO enforcement (SPEC §6; ADR 014), against the real local provider (oidc-provider 9).
 *
 * Threats:
 * - self-lockout: enforcement turned on while no connection works, while a verified domain still
 *   lands on the password form, without a working break-glass owner, or by an owner whose own
 *   password session is about to stop working. Each precondition is refused with its sentence and
 *   nothing written (the organization keeps its state, no session is touched, nothing audited).
 * - privilege: enforcement can lock an organization out, so only an owner decides it (admin → FORBIDDEN).
 * - bypass of the IdP's controls (offboarding, MFA, conditional access) through the password door
 *   (OWASP ASVS 6.8 "authentication with an identity provider"): password sign-in, sign-up and
 *   password reset are closed for an enforced domain, except for the one break-glass owner
 *   (password + TOTP). A refusal answers like an unknown address (INVALID_CREDENTIALS after the
 *   same argon2 work, WSTG-IDNT-04 user enumeration); reset answers `sent` and mails nothing.
 * - lingering access: members' password sessions are revoked when enforcement starts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { User } from '../../db/schema'
import { resetClockForTests, now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { getSsoConnection, updateOidcConnection } from '../../src/server/sso/connections'
import { addOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { describeEnforcementBlocker, type EnforcementBlocker } from '../../src/server/sso/sso-policy'
import { countRows, createTestUser, getSetSessionCookie, nextTestIp, signedInCaller, sql, tableChecksums, uniqueEmail } from '../support/auth-fixtures'
import { callerWithResponse } from '../support/caller'
import { createMfaTestUser, nextTotpCode } from '../support/mfa-fixtures'
import { auditEventsOfType, createTestOidcConnection, OPERATOR_ACTOR } from '../support/sso-fixtures'
import { catchTrpcError, expectAppError } from '../support/trpc-errors'
import { callerIn, inBrowser, loginThroughIdp, runDoctorTest, startOidcTestbed, type OidcTestbed, type OidcTestTenant, type TestBrowser } from '../support/oidc-fixtures'

const PRE = 'enforce-preconditions.test'
const MAIN = 'enforce-main.test'
const AVAILABLE = 'enforce-available.test'
const BREAK_GLASS_ACTOR = 'enforce-break-glass.test'

const OWEN = { email: `owen@${MAIN}`, password: 'owen-idp-password', name: 'Owen Owner', groups: ['idp-owners'], sub: 'owen-enforce' }
const ADDIE = { email: `addie@${MAIN}`, password: 'addie-idp-password', name: 'Addie Admin', groups: ['idp-admins'], sub: 'addie-enforce' }
const MEL = { email: `mel@${MAIN}`, password: 'mel-idp-password', name: 'Mel Member', groups: [], sub: 'mel-enforce' }
/** Pat has a password account at the domain and the same address at the IdP: an SSO sign-in links the two. */
const PAT = { email: `pat@${MAIN}`, password: 'pat-idp-password', name: 'Pat Member', groups: [], sub: 'pat-enforce' }
const ROLE_MAP = { 'idp-owners': 'owner', 'idp-admins': 'admin' }

let testbed: OidcTestbed
let pre: OidcTestTenant
let main: OidcTestTenant
let available: OidcTestTenant
let breakGlassTenant: OidcTestTenant

const storeDeps = () => ({ db: getDb(), now: now(), actor: OPERATOR_ACTOR })

/** Marks a connection as passing the doctor since its last change, in SQL (precondition-only cases). */
async function markTested(connectionId: string): Promise<void> {
  await sql('UPDATE sso_connections SET last_test_result = ?, last_tested_at = updated_at WHERE id = ?', [JSON.stringify({ isSuccessful: true, checks: [] }), connectionId])
}

/** The policy input turning enforcement on with this break-glass owner. */
function enforceWith(breakGlassUserId: string | null) {
  return { isEnforced: true, breakGlassUserId, mfaMode: 'require_gatehouse_mfa' as const }
}

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed(
    [OWEN, ADDIE, MEL, PAT],
    [
      { domain: PRE, groupRoleMap: ROLE_MAP },
      { domain: MAIN, groupRoleMap: ROLE_MAP },
      { domain: AVAILABLE, groupRoleMap: ROLE_MAP },
      { domain: BREAK_GLASS_ACTOR, groupRoleMap: ROLE_MAP },
    ],
  )
  ;[pre, main, available, breakGlassTenant] = testbed.tenants as [OidcTestTenant, OidcTestTenant, OidcTestTenant, OidcTestTenant]
})

afterEach(() => {
  resetClockForTests()
})

afterAll(async () => {
  await testbed?.stop()
})

describe('preconditions of enforcement', () => {
  let breakGlass: User
  let actor: Awaited<ReturnType<typeof signedInCaller>>

  beforeAll(async () => {
    await markTested(pre.connection.id)
    breakGlass = (await createMfaTestUser({ role: 'owner', organizationId: pre.organization.id, email: `break-glass@${PRE}` })).user
    // The break-glass owner acting with a fresh password + TOTP session: every other precondition holds.
    actor = await signedInCaller(breakGlass, { isMfaSatisfied: true, ip: nextTestIp() })
  })

  type PreconditionCase = {
    precondition: string
    blocker: EnforcementBlocker
    /** Breaks one precondition of the otherwise valid baseline; returns the policy call and how to restore the baseline. */
    arrange: () => Promise<{ call: () => Promise<unknown>; restore?: () => Promise<void> }>
  }

  const asBreakGlass = (breakGlassUserId: string | null = breakGlass.id) => () => actor.caller.organization.setSsoPolicy(enforceWith(breakGlassUserId))

  const cases: PreconditionCase[] = [
    {
      precondition: 'no connection was ever tested',
      blocker: 'no_tested_connection',
      arrange: async () => {
        await sql('UPDATE sso_connections SET last_test_result = NULL, last_tested_at = NULL WHERE id = ?', [pre.connection.id])
        return { call: asBreakGlass(), restore: () => markTested(pre.connection.id) }
      },
    },
    {
      precondition: 'the last test failed',
      blocker: 'no_tested_connection',
      arrange: async () => {
        await sql('UPDATE sso_connections SET last_test_result = ? WHERE id = ?', [JSON.stringify({ isSuccessful: false, checks: [{ name: 'response', isPassed: false, reason: 'id_token_invalid' }] }), pre.connection.id])
        return { call: asBreakGlass(), restore: () => markTested(pre.connection.id) }
      },
    },
    {
      precondition: 'the connection changed after its last passing test',
      blocker: 'no_tested_connection',
      arrange: async () => {
        const connection = await getSsoConnection(getDb(), pre.connection.id)
        await updateOidcConnection(
          { ...storeDeps(), outboundPolicy: { allowedPrivateHosts: ['127.0.0.1', 'localhost'] } },
          { connectionId: pre.connection.id, organizationId: pre.organization.id, displayName: 'Changed after its test', issuer: connection!.oidcIssuer!, clientId: connection!.oidcClientId!, groupRoleMap: ROLE_MAP },
        )
        return { call: asBreakGlass(), restore: () => markTested(pre.connection.id) }
      },
    },
    {
      precondition: 'a verified domain is not routed to any connection',
      blocker: 'unrouted_domain',
      arrange: async () => {
        const domain = `unrouted.${PRE}`
        await addOrganizationDomain(storeDeps(), { organizationId: pre.organization.id, domain })
        await verifyOrganizationDomainByOperator(storeDeps(), { organizationId: pre.organization.id, domain })
        return { call: asBreakGlass(), restore: async () => void (await sql('DELETE FROM organization_domains WHERE domain = ?', [domain])) }
      },
    },
    {
      precondition: 'a verified domain is routed to a connection that is not enabled',
      blocker: 'unrouted_domain',
      arrange: async () => {
        const domain = `draft-routed.${PRE}`
        const draft = await createTestOidcConnection(pre.organization.id, { displayName: 'Draft IdP' })
        await addOrganizationDomain(storeDeps(), { organizationId: pre.organization.id, domain })
        await verifyOrganizationDomainByOperator(storeDeps(), { organizationId: pre.organization.id, domain })
        await setDomainConnection(storeDeps(), { organizationId: pre.organization.id, domain, connectionId: draft.id })
        return {
          call: asBreakGlass(),
          restore: async () => {
            await sql('DELETE FROM organization_domains WHERE domain = ?', [domain])
            await sql('DELETE FROM sso_connections WHERE id = ?', [draft.id])
          },
        }
      },
    },
    {
      precondition: 'no break-glass owner is named',
      blocker: 'break_glass_invalid',
      arrange: async () => ({ call: asBreakGlass(null) }),
    },
    {
      precondition: 'the break-glass owner has no password (SSO-only)',
      blocker: 'break_glass_invalid',
      arrange: async () => {
        const { user } = await createMfaTestUser({ role: 'owner', organizationId: pre.organization.id, email: uniqueEmail('sso-only-owner') })
        await sql('UPDATE users SET password_hash = NULL WHERE id = ?', [user.id])
        return { call: asBreakGlass(user.id) }
      },
    },
    {
      precondition: 'the break-glass owner has no TOTP factor',
      blocker: 'break_glass_invalid',
      arrange: async () => {
        const { user } = await createTestUser({ role: 'owner', organizationId: pre.organization.id })
        return { call: asBreakGlass(user.id) }
      },
    },
    {
      precondition: 'the break-glass user is an admin, not an owner',
      blocker: 'break_glass_invalid',
      arrange: async () => {
        const { user } = await createMfaTestUser({ role: 'admin', organizationId: pre.organization.id })
        return { call: asBreakGlass(user.id) }
      },
    },
    {
      precondition: "the break-glass owner belongs to another organization (another tenant's id)",
      blocker: 'break_glass_invalid',
      arrange: async () => {
        const { user } = await createMfaTestUser({ role: 'owner', organizationId: available.organization.id })
        return { call: asBreakGlass(user.id) }
      },
    },
    {
      precondition: 'the acting owner signed in with a password and is not the break-glass owner',
      blocker: 'actor_not_sso_or_break_glass',
      arrange: async () => {
        const { user } = await createMfaTestUser({ role: 'owner', organizationId: pre.organization.id })
        const otherOwner = await signedInCaller(user, { isMfaSatisfied: true, ip: nextTestIp() })
        return { call: () => otherOwner.caller.organization.setSsoPolicy(enforceWith(breakGlass.id)) }
      },
    },
  ]

  it.each(cases)('refused with its sentence and nothing written: $precondition', async ({ blocker, arrange }) => {
    const { call, restore } = await arrange()
    try {
      const before = await tableChecksums()
      const refused = await expectAppError(call(), 'FORBIDDEN')
      expect(refused.message).toBe(describeEnforcementBlocker(blocker))
      expect(await tableChecksums()).toEqual(before)
    } finally {
      await restore?.()
    }
    const [organization] = await sql('SELECT sso_enforced_at, break_glass_user_id FROM organizations WHERE id = ?', [pre.organization.id])
    expect(organization).toEqual({ sso_enforced_at: null, break_glass_user_id: null })
  })

  it('the baseline itself passes: the break-glass owner (password + TOTP session) may turn enforcement on', async () => {
    const result = await actor.caller.organization.setSsoPolicy(enforceWith(breakGlass.id))
    expect(result).toMatchObject({ isEnforced: true, breakGlassUserId: breakGlass.id })
    expect(await actor.caller.organization.getSsoPolicy()).toMatchObject({ isEnforced: true, breakGlassUserId: breakGlass.id })
  })
})

describe('enforcement by an owner signed in through SSO', () => {
  let owner: TestBrowser
  let breakGlass: Awaited<ReturnType<typeof createMfaTestUser>>
  let passwordMember: { user: User; password: string }
  let passwordAdmin: { user: User; password: string }
  let personalAccount: { user: User; password: string }
  let melBrowser: TestBrowser

  beforeAll(async () => {
    owner = (await loginThroughIdp(OWEN)).browser
    breakGlass = await createMfaTestUser({ role: 'owner', organizationId: main.organization.id, email: `break-glass@${MAIN}` })
    passwordMember = await createTestUser({ role: 'member', organizationId: main.organization.id, email: `pat@${MAIN}` })
    passwordAdmin = await createTestUser({ role: 'admin', organizationId: main.organization.id, email: `alex@${MAIN}` })
    // An account at the domain that never joined the organization: the domain decides, not membership.
    personalAccount = await createTestUser({ organizationId: null, email: `solo@${MAIN}` })
    melBrowser = (await loginThroughIdp(MEL)).browser
  })

  it('an admin (even signed in through SSO) cannot turn enforcement on: FORBIDDEN, nothing written', async () => {
    const { browser } = await loginThroughIdp(ADDIE)
    const before = await tableChecksums()
    await expectAppError(callerIn(browser).organization.setSsoPolicy(enforceWith(breakGlass.user.id)), 'FORBIDDEN')
    expect(await tableChecksums()).toEqual(before)
  })

  it("a real doctor test, then enforcement: members' password sessions are revoked and the count is audited", async () => {
    const doctor = await runDoctorTest(owner, main.connection.id, OWEN)
    expect(doctor.status).toBe(303)
    expect(await callerIn(owner).organization.sso.getTestResult({ connectionId: main.connection.id })).toMatchObject({ isTestedSinceLastChange: true, result: { isSuccessful: true } })

    const member = await signedInCaller(passwordMember.user, { ip: nextTestIp() })
    await signedInCaller(passwordMember.user, { ip: nextTestIp() })
    const admin = await signedInCaller(passwordAdmin.user, { ip: nextTestIp() })
    const [{ count: melSessions }] = (await sql('SELECT COUNT(*) AS count FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)', [MEL.email])) as unknown as [{ count: number }]

    const result = await inBrowser(owner, (caller) => caller.organization.setSsoPolicy(enforceWith(breakGlass.user.id)))

    expect(result).toMatchObject({ isEnforced: true, breakGlassUserId: breakGlass.user.id, passwordSessionsRevoked: 3 })
    expect(await member.caller.auth.me()).toBeNull()
    expect(await admin.caller.auth.me()).toBeNull()
    // SSO sessions stay: the IdP still vouches for them (the owner's own, and a member's).
    expect(await callerIn(owner).auth.me()).toMatchObject({ status: 'signed-in', session: { authMethod: 'oidc' } })
    expect(await callerIn(melBrowser).auth.me()).toMatchObject({ status: 'signed-in' })
    const [{ count: melSessionsAfter }] = (await sql('SELECT COUNT(*) AS count FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)', [MEL.email])) as unknown as [{ count: number }]
    expect(Number(melSessionsAfter)).toBe(Number(melSessions))

    const changed = (await auditEventsOfType('organization.sso_policy_changed')).filter((event) => event.organizationId === main.organization.id)
    expect(changed).toHaveLength(1)
    expect(changed[0]!.details).toMatchObject({ isEnforced: true, breakGlassUserId: breakGlass.user.id, signedOutSessions: 3, previous: { isEnforced: false } })
    const [{ id: owenId }] = (await sql('SELECT id FROM users WHERE email = ?', [OWEN.email])) as unknown as [{ id: string }]
    expect(changed[0]!.actorUserId).toBe(owenId)
  })

  type PasswordAddress = { address: string; email: () => string; password: () => string; reason: 'sso_enforced' | 'bad_password' | 'unknown_email' }

  const addresses: PasswordAddress[] = [
    { address: 'a member with a password (the right one)', email: () => passwordMember.user.email, password: () => passwordMember.password, reason: 'sso_enforced' },
    { address: 'an admin with a password (the right one)', email: () => passwordAdmin.user.email, password: () => passwordAdmin.password, reason: 'sso_enforced' },
    { address: 'an account at the domain outside the organization', email: () => personalAccount.user.email, password: () => personalAccount.password, reason: 'sso_enforced' },
    { address: 'an SSO-only owner (no password)', email: () => OWEN.email, password: () => OWEN.password, reason: 'bad_password' },
    { address: 'a member with a wrong password', email: () => passwordMember.user.email, password: () => 'not the password at all 123', reason: 'bad_password' },
    { address: 'an unknown address at the domain', email: () => `nobody@${MAIN}`, password: () => 'correct horse battery staple 42', reason: 'unknown_email' },
  ]

  it.each(addresses)('password sign-in answers like an unknown address, with no session: $address', async ({ email, password, reason }) => {
    const unknown = await catchTrpcError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: uniqueEmail('unknown'), password: 'whatever password 1234' }))
    const sessionsBefore = (await countRows()).sessions
    const failuresBefore = (await auditEventsOfType('auth.sign_in.failed')).length
    const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })

    const refused = await expectAppError(caller.auth.signIn({ email: email(), password: password() }), 'INVALID_CREDENTIALS')

    expect({ code: refused.code, appCode: refused.appCode, message: refused.message }).toEqual({ code: unknown.code, appCode: unknown.appCode, message: unknown.message })
    expect(getSetSessionCookie(responseHeaders)).toBeNull()
    expect((await countRows()).sessions).toBe(sessionsBefore)
    expect((await auditEventsOfType('auth.sign_in.failed')).slice(failuresBefore).map((event) => event.details.reason)).toEqual([reason])
  })

  it('the break-glass owner still signs in with the password and a TOTP code', async () => {
    const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp(), followCookies: true })
    expect(await caller.auth.signIn({ email: breakGlass.user.email, password: breakGlass.password })).toEqual({ status: 'mfa-required' })
    expect(getSetSessionCookie(responseHeaders)?.value).toBeTruthy()
    expect(await caller.mfa.verify({ code: nextTotpCode(breakGlass.secret) })).toEqual({ status: 'signed-in' })
    expect(await caller.auth.me()).toMatchObject({ status: 'signed-in', user: { id: breakGlass.user.id }, session: { authMethod: 'password' } })
  })

  it("the break-glass owner's password still works for a step-up", async () => {
    const session = await signedInCaller(breakGlass.user, { isMfaSatisfied: true, ip: nextTestIp() })
    await sql('UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE id = ?', [session.sessionId])
    expect(await session.caller.auth.reauthenticate({ password: breakGlass.password })).toEqual({ reauthenticatedAt: expect.any(String) })
  })

  it("a linked member's old password cannot stand in for the IdP at a step-up: SSO_REQUIRED, nothing written", async () => {
    const { browser } = await loginThroughIdp(PAT)
    expect(await callerIn(browser).auth.me()).toMatchObject({ user: { id: passwordMember.user.id }, session: { authMethod: 'oidc' } })
    const [account] = await sql('SELECT password_hash FROM users WHERE id = ?', [passwordMember.user.id])
    expect(account!.password_hash).not.toBeNull()
    await sql('UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE user_id = ?', [passwordMember.user.id])
    const { rate_limit_buckets: _budget, ...before } = await tableChecksums()

    await expectAppError(callerIn(browser).auth.reauthenticate({ password: passwordMember.password }), 'SSO_REQUIRED')

    const { rate_limit_buckets: _budgetAfter, ...after } = await tableChecksums()
    expect(after).toEqual(before)
  })

  it('sign-up at the enforced domain gets SSO_REQUIRED and writes nothing', async () => {
    const before = await countRows()
    await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signUp({ email: `newcomer@${MAIN}`, password: 'correct horse battery staple 42', name: 'New Comer' }), 'SSO_REQUIRED')
    expect(await countRows()).toEqual(before)
  })

  it('password reset answers `sent` but mails nothing, audited as sso_enforced', async () => {
    const mailsToMember = await mailCount(passwordMember.user.email)
    const before = await countRows()
    expect(await callerWithResponse({ ip: nextTestIp() }).caller.auth.requestPasswordReset({ email: passwordMember.user.email })).toEqual({ status: 'sent' })
    const after = await countRows()
    expect({ mail: after.mail_outbox, tokens: after.one_time_tokens }).toEqual({ mail: before.mail_outbox, tokens: before.one_time_tokens })
    // Mail leaves in the background: give a mail that should not exist the time a real one takes to land.
    expect(await waitForMoreMail(passwordMember.user.email, mailsToMember)).toBe(mailsToMember)
    const requested = (await auditEventsOfType('password.reset_requested')).filter((event) => event.subjectUserId === passwordMember.user.id)
    expect(requested.map((event) => event.details)).toEqual([{ isLinkSent: false, reason: 'sso_enforced' }])
  })

  it('the exemption holds: the break-glass owner can still reset the password by mail', async () => {
    const mailsBefore = await mailCount(breakGlass.user.email)
    expect(await callerWithResponse({ ip: nextTestIp() }).caller.auth.requestPasswordReset({ email: breakGlass.user.email })).toEqual({ status: 'sent' })
    const requested = (await auditEventsOfType('password.reset_requested')).filter((event) => event.subjectUserId === breakGlass.user.id)
    expect(requested.map((event) => event.details)).toEqual([{ isLinkSent: true }])
    expect(await waitForMoreMail(breakGlass.user.email, mailsBefore)).toBe(mailsBefore + 1)
  })
})

describe('without enforcement', () => {
  it('sign-up gets SSO_REQUIRED for a domain whose organization has an enabled connection', async () => {
    const before = await countRows()
    await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.auth.signUp({ email: `newcomer@${AVAILABLE}`, password: 'correct horse battery staple 42', name: 'New Comer' }), 'SSO_REQUIRED')
    expect(await countRows()).toEqual(before)
    const [organization] = await sql('SELECT sso_enforced_at FROM organizations WHERE id = ?', [available.organization.id])
    expect(organization!.sso_enforced_at).toBeNull()
  })

  it('the break-glass owner, signed in with password + TOTP, may turn enforcement on for their organization', async () => {
    await markTested(breakGlassTenant.connection.id)
    const breakGlass = await createMfaTestUser({ role: 'owner', organizationId: breakGlassTenant.organization.id, email: `break-glass@${BREAK_GLASS_ACTOR}` })
    const { caller } = callerWithResponse({ ip: nextTestIp(), followCookies: true })
    await caller.auth.signIn({ email: breakGlass.user.email, password: breakGlass.password })
    await caller.mfa.verify({ code: nextTotpCode(breakGlass.secret) })
    expect(await caller.organization.setSsoPolicy(enforceWith(breakGlass.user.id))).toMatchObject({ isEnforced: true, passwordSessionsRevoked: 0 })
    // Their own password session survives (it is the actor's), and the policy reads back.
    expect(await caller.organization.getSsoPolicy()).toMatchObject({ isEnforced: true, breakGlassUserId: breakGlass.user.id })
  })
})

async function mailCount(email: string): Promise<number> {
  const [row] = await sql('SELECT COUNT(*) AS count FROM mail_outbox WHERE to_address = ?', [email])
  return Number(row!.count)
}

/** Mail is handed to the outbox in the background: polls briefly until `email` has more than `count` mails. */
async function waitForMoreMail(email: string, count: number): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const current = await mailCount(email)
    if (current > count) return current
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return count
}
