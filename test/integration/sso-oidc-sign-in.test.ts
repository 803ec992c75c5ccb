/**
 * OIDC sign-in end to end against the real local provider (oidc-provider 9; OpenID Connect Core
 * 1.0 §3.1, authorization code + PKCE per RFC 7636): email-first discovery, the callback route,
 * just-in-time provisioning (SPEC §6), group → role mapping re-evaluated at every sign-in, the
 * discovery/JWKS cache (a warm login costs the IdP nothing but the code exchange), and the refusal
 * of disabled accounts — a disabled user must not get back in through the IdP (OWASP ASVS 2.5.x:
 * the app, not the IdP, decides whether an account may sign in).
 *
 * The provider's users are fixed at start; "the IdP admin changes the user's groups" is the
 * provider issuing ID tokens with other groups (its test-only fault switch re-signs them with its
 * real key, so the app sees exactly what a reconfigured IdP would send).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { createTestUser, getSetSessionCookie, readUser, sql } from '../support/auth-fixtures'
import { auditEventsOfType } from '../support/sso-fixtures'
import { callerIn, loginThroughIdp, startOidcTestbed, type OidcTestbed } from '../support/oidc-fixtures'
import { expectRefusedWithNothingWritten, loginCapturingAccountState } from '../support/sso-refusals'

const domain = 'oidc-sign-in.test'
const defaultRoleDomain = 'oidc-default-role.test'

const ADA = { email: `ada@${domain}`, password: 'ada-idp-password', name: 'Ada Admin', groups: ['idp-admins'], sub: 'ada-subject' }
const JOAN = { email: `joan@${domain}`, password: 'joan-idp-password', name: 'Joan Newcomer', groups: ['idp-staff'], sub: 'joan-subject' }
const GRACE = { email: `grace@${domain}`, password: 'grace-idp-password', name: 'Grace Moves', groups: ['idp-admins'], sub: 'grace-subject' }
const NOOR = { email: `noor@${defaultRoleDomain}`, password: 'noor-idp-password', name: 'Noor Unmapped', groups: ['idp-unmapped'], sub: 'noor-subject' }
const DINA = { email: `dina@${domain}`, password: 'dina-idp-password', name: 'Dina Disabled Later', sub: 'dina-subject' }
const EVE = { email: `eve@${domain}`, password: 'eve-idp-password', name: 'Eve Disabled Account', sub: 'eve-subject' }
const OWEN = { email: `owen@${domain}`, password: 'owen-idp-password', name: 'Owen Break-Glass', groups: ['idp-staff'], sub: 'owen-subject' }

let testbed: OidcTestbed
const tenant = () => testbed.tenants[0]!
const defaultRoleTenant = () => testbed.tenants[1]!

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed(
    [ADA, JOAN, GRACE, NOOR, DINA, EVE, OWEN],
    [
      // An owner's mapping (it reaches owner), so the connection may sign owners in at all
      // (sso-connection-authority.test.ts); nobody here is in `idp-owners`.
      { groupRoleMap: { 'idp-admins': 'admin', 'idp-owners': 'owner' }, defaultRole: 'member', domain },
      // Nothing mapped: everyone gets the connection's default role, which here is not the app's.
      { groupRoleMap: {}, defaultRole: 'admin', domain: defaultRoleDomain },
    ],
  )
})

afterEach(() => {
  testbed.idp.setFaults(null)
})

afterAll(async () => {
  await testbed?.stop()
})

describe('OIDC sign-in', () => {
  it('a full sign-in creates an OIDC session for the connection and lands on the requested page', async () => {
    const { response, location, browser } = await loginThroughIdp(ADA, { redirect: '/settings/security' })

    expect(response.status).toBe(303)
    expect(location).toBe('/settings/security')
    expect(getSetSessionCookie(response.headers)?.value).toBeTruthy()
    const viewer = await callerIn(browser).auth.me()
    expect(viewer).toMatchObject({
      status: 'signed-in',
      user: { email: ADA.email, role: 'admin', organization: { id: tenant().organization.id } },
      session: { authMethod: 'oidc', ssoConnectionId: tenant().connection.id },
    })
    const [identity] = await sql('SELECT subject, last_sign_in_at FROM sso_identities WHERE connection_id = ? AND subject = ?', [tenant().connection.id, ADA.sub])
    expect(identity!.last_sign_in_at).not.toBeNull()
    const succeeded = await auditEventsOfType('sso.sign_in.succeeded')
    expect(succeeded.at(-1)).toMatchObject({ organizationId: tenant().organization.id, details: { connectionId: tenant().connection.id, method: 'oidc' } })
  })

  it('a warm login makes no discovery or JWKS request to the IdP', async () => {
    clearOidcConfigurationCache()
    testbed.idp.resetCounters()
    await loginThroughIdp(ADA)
    expect(testbed.idp.counters).toMatchObject({ discovery: 1, jwks: 1, token: 1 })

    testbed.idp.resetCounters()
    const warm = await loginThroughIdp(ADA)
    expect(warm.response.status).toBe(303)
    expect(testbed.idp.counters).toMatchObject({ discovery: 0, jwks: 0, token: 1 })
  })

  it('JIT provisioning creates an SSO-only user with a verified email in the connection’s organization', async () => {
    expect(await sql('SELECT id FROM users WHERE email = ?', [JOAN.email])).toHaveLength(0)

    const { browser, response } = await loginThroughIdp(JOAN)

    expect(response.status).toBe(303)
    const [user] = await sql('SELECT id, name, role, organization_id, password_hash, email_verified_at FROM users WHERE email = ?', [JOAN.email])
    expect(user).toMatchObject({ name: JOAN.name, role: 'member', organization_id: tenant().organization.id, password_hash: null })
    expect(user!.email_verified_at).not.toBeNull()
    const identities = await sql('SELECT connection_id, subject FROM sso_identities WHERE user_id = ?', [user!.id])
    expect(identities).toEqual([{ connection_id: tenant().connection.id, subject: JOAN.sub }])
    const provisioned = (await auditEventsOfType('user.provisioned')).filter((event) => event.subjectUserId === user!.id)
    expect(provisioned).toEqual([expect.objectContaining({ organizationId: tenant().organization.id, details: { connectionId: tenant().connection.id, role: 'member' } })])
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: user!.id, isEmailVerified: true } })
    // Like sign-up (ADR 013), a brand-new account's first browser is remembered silently…
    expect(await sql('SELECT subject FROM mail_outbox WHERE to_address = ?', [JOAN.email])).toEqual([])
    // …and another browser is a new device.
    await loginThroughIdp(JOAN)
    expect(await sql('SELECT subject FROM mail_outbox WHERE to_address = ?', [JOAN.email])).toHaveLength(1)
  })

  it('group → role mapping is re-evaluated at every sign-in and each change is audited with source idp', async () => {
    // What the IdP asserts at each sign-in, and the role Grace must hold afterwards.
    const steps: Array<{ groups: string[]; role: string; change: { from: string; to: string } | null }> = [
      { groups: ['idp-admins'], role: 'admin', change: null }, // provisioned as admin: no change event
      { groups: ['idp-staff'], role: 'member', change: { from: 'admin', to: 'member' } }, // removed from the admins group
      { groups: ['idp-staff'], role: 'member', change: null }, // unchanged: nothing audited
      { groups: ['idp-staff', 'idp-admins'], role: 'admin', change: { from: 'member', to: 'admin' } }, // added back
    ]
    for (const step of steps) {
      testbed.idp.setFaults({ idToken: { claims: { groups: step.groups } } })
      const changesBefore = await auditEventsOfType('user.role_changed')

      const { browser, response } = await loginThroughIdp(GRACE)

      expect(response.status).toBe(303)
      expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { email: GRACE.email, role: step.role } })
      const newChanges = (await auditEventsOfType('user.role_changed')).slice(changesBefore.length)
      expect(newChanges).toEqual(
        step.change ? [expect.objectContaining({ organizationId: tenant().organization.id, details: { ...step.change, source: 'idp', connectionId: tenant().connection.id } })] : [],
      )
    }
  })

  it('a user whose groups map to no role gets the connection’s default role', async () => {
    const { browser } = await loginThroughIdp(NOOR)

    expect(await callerIn(browser).auth.me()).toMatchObject({
      status: 'signed-in',
      user: { email: NOOR.email, role: 'admin', organization: { id: defaultRoleTenant().organization.id } },
    })
  })

  it('a mapping never demotes the organization’s break-glass owner', async () => {
    const { user } = await createTestUser({ email: OWEN.email, role: 'owner', organizationId: tenant().organization.id })
    await sql('UPDATE organizations SET break_glass_user_id = ? WHERE id = ?', [user.id, tenant().organization.id])

    const { browser } = await loginThroughIdp(OWEN)

    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id, role: 'owner' } })
    expect((await auditEventsOfType('user.role_changed')).filter((event) => event.subjectUserId === user.id)).toEqual([])
  })

  describe('a disabled user is refused, with nothing written', () => {
    it('an SSO user disabled after linking cannot sign in through the IdP', async () => {
      await loginThroughIdp(DINA)
      const [user] = await sql('SELECT id FROM users WHERE email = ?', [DINA.email])
      await sql('UPDATE users SET disabled_at = NOW(3) WHERE id = ?', [user!.id])

      const login = await loginCapturingAccountState(DINA)

      const event = await expectRefusedWithNothingWritten(login, { status: 403, reason: 'user_disabled' })
      expect(event).toMatchObject({ subjectUserId: user!.id, organizationId: tenant().organization.id, details: { connectionId: tenant().connection.id } })
      expect(await callerIn(login.browser).auth.me()).toBeNull()
    })

    it('a disabled account with the asserted email is neither linked nor signed in', async () => {
      const { user } = await createTestUser({ email: EVE.email, organizationId: tenant().organization.id, isDisabled: true })

      const login = await loginCapturingAccountState(EVE)

      const event = await expectRefusedWithNothingWritten(login, { status: 403, reason: 'user_disabled' })
      expect(event.subjectUserId).toBe(user.id)
      expect(await sql('SELECT id FROM sso_identities WHERE user_id = ?', [user.id])).toHaveLength(0)
      expect((await readUser(user.id))!.passwordHash).not.toBeNull()
    })
  })
})
