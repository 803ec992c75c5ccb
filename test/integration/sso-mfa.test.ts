/**
 * MFA after SSO (ADR 014; SPEC §6) against the real local provider. The attack: skipping the
 * organization's second factor by signing in through an IdP — either because an SSO path forgets
 * the policy, or because the app believes an `amr`/`acr` it was never told to trust (RFC 8176 values
 * are free text to anyone who controls the IdP; NIST 800-63C §5: the relying party decides what
 * federated authenticators it accepts).
 *
 * - Every combination of the organization's `sso_mfa_mode` × MFA policy × (user has TOTP or not) ×
 *   (IdP asserted a listed `amr` value or not) gives the `getMfaState` the table says, seen as the
 *   viewer's status and the callback's redirect (the MFA step, or the page asked for).
 * - An asserted value that is not on the connection's list never satisfies MFA: another RFC 8176
 *   value, a case variant, an `acr` carrying an `amr` value, or anything when the list is empty.
 * - IdP-satisfied MFA is recorded on the session (`mfa_method = 'idp'`); what was asserted is
 *   recorded in `idp_authn_context` whatever the decision.
 * - A pending SSO session completes with a TOTP code (from oathtool) through `mfa.verify`.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalOidcUser } from '../../scripts/idp/oidc-provider'
import { sessions, type Organization } from '../../db/schema'
import { getMfaState, type MfaState } from '../../src/server/auth/mfa-policy'
import { resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { callerWithResponse } from '../support/caller'
import { createTestUser, readUser, sql } from '../support/auth-fixtures'
import { enrollTotpForTests, nextTotpCode } from '../support/mfa-fixtures'
import { callerIn, cookieHeader, loginThroughIdp, newTestBrowser, startOidcTestbed, storeCookies, type OidcTenantSpec, type OidcTestbed, type OidcTestTenant } from '../support/oidc-fixtures'
import { auditEventsOfType } from '../support/sso-fixtures'

type SsoMfaMode = 'require_gatehouse_mfa' | 'trust_idp_mfa'
type Policy = 'optional' | 'required'

/** The `amr` value every matrix connection lists as MFA, and what the IdP asserts with and without it. */
const LISTED_AMR = 'otp'
const AMR_WITH_MFA = ['pwd', LISTED_AMR]
const AMR_WITHOUT_MFA = ['pwd']

const TENANT_KEYS = ['require_gatehouse_mfa/optional', 'require_gatehouse_mfa/required', 'trust_idp_mfa/optional', 'trust_idp_mfa/required'] as const
/** trust_idp_mfa with the connection's list left at its default (empty). */
const EMPTY_LIST_TENANT = 'trust_idp_mfa/required/empty-list'

const domainOf = (key: string) => `mfa-${key.replace(/[^a-z]+/g, '-')}.test`

function idpUser(localPart: string, key: string, extra: Partial<LocalOidcUser> = {}): LocalOidcUser {
  const email = `${localPart}@${domainOf(key)}`
  return { email, password: `${localPart}-idp-password`, name: localPart, sub: `${localPart}-${domainOf(key)}`, ...extra }
}

// ── The matrix ──────────────────────────────────────────────────────────────────────────────────

type MatrixRow = { mode: SsoMfaMode; policy: Policy; hasTotp: boolean; idpAssertsMfa: boolean; expected: MfaState }

// prettier-ignore
const MATRIX: MatrixRow[] = [
  // Gatehouse's own factor is required whatever the IdP says.
  { mode: 'require_gatehouse_mfa', policy: 'optional', hasTotp: true,  idpAssertsMfa: true,  expected: 'pending' },
  { mode: 'require_gatehouse_mfa', policy: 'optional', hasTotp: true,  idpAssertsMfa: false, expected: 'pending' },
  { mode: 'require_gatehouse_mfa', policy: 'optional', hasTotp: false, idpAssertsMfa: true,  expected: 'not_required' },
  { mode: 'require_gatehouse_mfa', policy: 'optional', hasTotp: false, idpAssertsMfa: false, expected: 'not_required' },
  { mode: 'require_gatehouse_mfa', policy: 'required', hasTotp: true,  idpAssertsMfa: true,  expected: 'pending' },
  { mode: 'require_gatehouse_mfa', policy: 'required', hasTotp: true,  idpAssertsMfa: false, expected: 'pending' },
  { mode: 'require_gatehouse_mfa', policy: 'required', hasTotp: false, idpAssertsMfa: true,  expected: 'enrollment_required' },
  { mode: 'require_gatehouse_mfa', policy: 'required', hasTotp: false, idpAssertsMfa: false, expected: 'enrollment_required' },
  // The IdP's MFA counts when it asserted a listed value; otherwise exactly as above.
  { mode: 'trust_idp_mfa',         policy: 'optional', hasTotp: true,  idpAssertsMfa: true,  expected: 'satisfied' },
  { mode: 'trust_idp_mfa',         policy: 'optional', hasTotp: true,  idpAssertsMfa: false, expected: 'pending' },
  { mode: 'trust_idp_mfa',         policy: 'optional', hasTotp: false, idpAssertsMfa: true,  expected: 'satisfied' },
  { mode: 'trust_idp_mfa',         policy: 'optional', hasTotp: false, idpAssertsMfa: false, expected: 'not_required' },
  { mode: 'trust_idp_mfa',         policy: 'required', hasTotp: true,  idpAssertsMfa: true,  expected: 'satisfied' },
  { mode: 'trust_idp_mfa',         policy: 'required', hasTotp: true,  idpAssertsMfa: false, expected: 'pending' },
  { mode: 'trust_idp_mfa',         policy: 'required', hasTotp: false, idpAssertsMfa: true,  expected: 'satisfied' },
  { mode: 'trust_idp_mfa',         policy: 'required', hasTotp: false, idpAssertsMfa: false, expected: 'enrollment_required' },
]

const matrixUser = (row: MatrixRow) =>
  idpUser(`${row.hasTotp ? 'totp' : 'plain'}-${row.idpAssertsMfa ? 'idpmfa' : 'pwdonly'}`, `${row.mode}/${row.policy}`, { amr: row.idpAssertsMfa ? AMR_WITH_MFA : AMR_WITHOUT_MFA })

// ── Values that are not on the list ────────────────────────────────────────────────────────────

type UnlistedCase = { what: string; tenant: string; localPart: string; amr: string[]; acr?: string; recorded: string }

const UNLISTED: UnlistedCase[] = [
  { what: 'another RFC 8176 value (mfa)', tenant: 'trust_idp_mfa/required', localPart: 'unlisted-mfa', amr: ['pwd', 'mfa'], recorded: 'amr=pwd,mfa' },
  { what: 'a case variant of the listed value (OTP)', tenant: 'trust_idp_mfa/required', localPart: 'unlisted-case', amr: ['pwd', 'OTP'], recorded: 'amr=pwd,OTP' },
  { what: 'the listed amr value sent as acr', tenant: 'trust_idp_mfa/required', localPart: 'unlisted-acr', amr: ['pwd'], acr: LISTED_AMR, recorded: `amr=pwd acr=${LISTED_AMR}` },
  { what: 'any value when the list is empty (the default)', tenant: EMPTY_LIST_TENANT, localPart: 'empty-list', amr: ['pwd', 'otp', 'mfa', 'hwk'], recorded: 'amr=pwd,otp,mfa,hwk' },
]

const unlistedUser = (entry: UnlistedCase) => idpUser(entry.localPart, entry.tenant, { amr: entry.amr, ...(entry.acr ? { acr: entry.acr } : {}) })

// ── The TOTP challenge after SSO ───────────────────────────────────────────────────────────────

const CHALLENGE_USER = idpUser('challenge', 'require_gatehouse_mfa/optional', { amr: AMR_WITH_MFA })
/** Has a password and TOTP at Gatehouse too; signs in at the IdP with a listed `amr` value. */
const PENDING_PASSWORD_USER = idpUser('half-signed-in', 'trust_idp_mfa/optional', { amr: AMR_WITH_MFA })

// ── Setup ──────────────────────────────────────────────────────────────────────────────────────

let testbed: OidcTestbed
const tenants = new Map<string, OidcTestTenant>()

beforeAll(async () => {
  clearOidcConfigurationCache()
  const specs: Array<[string, OidcTenantSpec]> = [
    ...TENANT_KEYS.map((key): [string, OidcTenantSpec] => {
      const [mode, policy] = key.split('/') as [SsoMfaMode, Policy]
      return [key, { ssoMfaMode: mode, mfaPolicy: policy, mfaAmrValues: [LISTED_AMR], domain: domainOf(key) }]
    }),
    [EMPTY_LIST_TENANT, { ssoMfaMode: 'trust_idp_mfa', mfaPolicy: 'required', domain: domainOf(EMPTY_LIST_TENANT) }],
  ]
  testbed = await startOidcTestbed(
    [...MATRIX.map(matrixUser), ...UNLISTED.map(unlistedUser), CHALLENGE_USER, PENDING_PASSWORD_USER],
    specs.map(([, spec]) => spec),
  )
  specs.forEach(([key], index) => tenants.set(key, testbed.tenants[index]!))
})

afterAll(async () => {
  resetClockForTests()
  await testbed?.stop()
})

function tenantFor(key: string): OidcTestTenant {
  const tenant = tenants.get(key)
  if (!tenant) throw new Error(`no tenant ${key}`)
  return tenant
}

/** The account an IdP user signs into; with a TOTP factor, pre-created in the organization (and linked at the first SSO). */
async function prepareAccount(user: LocalOidcUser, organization: Organization, hasTotp: boolean) {
  if (!hasTotp) return null
  const { user: account } = await createTestUser({ email: user.email, organizationId: organization.id })
  return enrollTotpForTests(account)
}

/** The session the SSO login created, and `getMfaState` computed from the rows as the guards load them. */
async function readSsoSession(email: string, organization: Organization) {
  const [row] = await sql('SELECT id FROM users WHERE email = ?', [email])
  const userId = String(row!.id)
  const rows = await getDb().select().from(sessions).where(eq(sessions.userId, userId))
  expect(rows).toHaveLength(1)
  const session = rows[0]!
  const user = (await readUser(userId))!
  return { session, userId, mfaState: getMfaState(session, user, organization) }
}

const VIEWER_STATUS: Record<MfaState, string> = {
  satisfied: 'signed-in',
  not_required: 'signed-in',
  pending: 'mfa-pending',
  enrollment_required: 'mfa-enrollment-required',
}

const REQUESTED_PAGE = '/settings/security'
const MFA_STEP = `/login/mfa?redirect=${encodeURIComponent(REQUESTED_PAGE)}`

describe('MFA after SSO: sso_mfa_mode × MFA policy × TOTP × IdP-asserted MFA', () => {
  it.each(MATRIX)('$mode, policy $policy, TOTP $hasTotp, IdP MFA $idpAssertsMfa → $expected', async (row) => {
    const { organization, connection } = tenantFor(`${row.mode}/${row.policy}`)
    const asserted = matrixUser(row)
    await prepareAccount(asserted, organization, row.hasTotp)

    const { response, location, browser } = await loginThroughIdp(asserted, { redirect: REQUESTED_PAGE })

    expect(response.status).toBe(303)
    const isFullySignedIn = row.expected === 'satisfied' || row.expected === 'not_required'
    expect(location).toBe(isFullySignedIn ? REQUESTED_PAGE : MFA_STEP)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: VIEWER_STATUS[row.expected] })

    const { session, userId, mfaState } = await readSsoSession(asserted.email, organization)
    expect(mfaState).toBe(row.expected)
    expect(session).toMatchObject({ authMethod: 'oidc', ssoConnectionId: connection.id, idpAuthnContext: `amr=${asserted.amr!.join(',')}` })
    if (row.expected === 'satisfied') {
      expect(session.mfaMethod).toBe('idp')
      expect(session.mfaSatisfiedAt).not.toBeNull()
      const succeeded = (await auditEventsOfType('sso.sign_in.succeeded')).filter((event) => event.subjectUserId === userId)
      expect(succeeded).toEqual([expect.objectContaining({ details: expect.objectContaining({ connectionId: connection.id, mfa: 'idp' }) })])
    } else {
      expect(session.mfaMethod).toBeNull()
      expect(session.mfaSatisfiedAt).toBeNull()
    }
  })
})

describe('an amr/acr value not on the connection’s list never satisfies MFA', () => {
  it.each(UNLISTED)('$what', async (entry) => {
    const { organization } = tenantFor(entry.tenant)
    const asserted = unlistedUser(entry)

    const { location, browser } = await loginThroughIdp(asserted, { redirect: REQUESTED_PAGE })

    // Both tenants require MFA of everyone: an unsatisfied session of a user without a factor must enroll.
    expect(location).toBe(MFA_STEP)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'mfa-enrollment-required' })
    const { session, mfaState } = await readSsoSession(asserted.email, organization)
    expect(mfaState).toBe('enrollment_required')
    expect(session).toMatchObject({ mfaSatisfiedAt: null, mfaMethod: null, idpAuthnContext: entry.recorded })
  })
})

describe('completing the second factor after SSO', () => {
  it('a pending SSO session is signed in by a TOTP code through mfa.verify', async () => {
    const { organization, connection } = tenantFor('require_gatehouse_mfa/optional')
    const factor = (await prepareAccount(CHALLENGE_USER, organization, true))!
    const { browser, location } = await loginThroughIdp(CHALLENGE_USER, { redirect: REQUESTED_PAGE })
    expect(location).toBe(MFA_STEP)
    expect(await callerIn(browser).auth.me()).toEqual({ status: 'mfa-pending' })
    const pending = await readSsoSession(CHALLENGE_USER.email, organization)

    const { caller, responseHeaders } = callerWithResponse({ ip: browser.ip, cookie: cookieHeader(browser.cookies) })
    expect(await caller.mfa.verify({ code: nextTotpCode(factor.secret) })).toEqual({ status: 'signed-in' })
    storeCookies(browser.cookies, responseHeaders.getSetCookie())

    expect(await callerIn(browser).auth.me()).toMatchObject({
      status: 'signed-in',
      user: { email: CHALLENGE_USER.email },
      session: { authMethod: 'oidc', ssoConnectionId: connection.id },
    })
    const { session, mfaState } = await readSsoSession(CHALLENGE_USER.email, organization)
    expect(mfaState).toBe('satisfied')
    // The same sign-in continues under a new token (session fixation, OWASP ASVS 3.2.1), keeping what the IdP asserted.
    expect(session.id).not.toBe(pending.session.id)
    expect(session).toMatchObject({ mfaMethod: 'totp', idpAuthnContext: `amr=${AMR_WITH_MFA.join(',')}` })
  })
})

describe('an SSO sign-in is never the second step of another sign-in', () => {
  it('a browser holding a pending password session of the same user gets the connection’s own session', async () => {
    // Were the IdP's MFA taken as the second step of the password sign-in, the session would stay
    // a password session without the connection: disabling the connection would not revoke it
    // (ADR 014), and what the IdP asserted would not be recorded.
    const { organization, connection } = tenantFor('trust_idp_mfa/optional')
    const { user, password } = await createTestUser({ email: PENDING_PASSWORD_USER.email, organizationId: organization.id })
    await enrollTotpForTests(user)
    const browser = newTestBrowser()
    const { caller, responseHeaders } = callerWithResponse({ ip: browser.ip, cookie: cookieHeader(browser.cookies) })
    expect(await caller.auth.signIn({ email: user.email, password })).toEqual({ status: 'mfa-required' })
    storeCookies(browser.cookies, responseHeaders.getSetCookie())
    const pending = await readSsoSession(user.email, organization)

    const { location } = await loginThroughIdp(PENDING_PASSWORD_USER, { browser, redirect: REQUESTED_PAGE })

    expect(location).toBe(REQUESTED_PAGE)
    const { session, mfaState } = await readSsoSession(user.email, organization)
    expect(mfaState).toBe('satisfied')
    expect(session.id).not.toBe(pending.session.id)
    expect(session).toMatchObject({ authMethod: 'oidc', ssoConnectionId: connection.id, mfaMethod: 'idp', idpAuthnContext: `amr=${AMR_WITH_MFA.join(',')}` })
  })
})
