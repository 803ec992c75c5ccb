/**
 * A connection's authority (ADR 014): whoever controls the IdP a connection trusts can sign in as
 * any account that connection reaches, so a connection signs in no account above the highest role
 * its mapping can give (its ceiling), and only someone of at least that role may change it.
 *
 * The attack (found by an independent review of the production build): an organization admin
 * registers an IdP of their own, tests and enables it, then asserts the owner's email. Without these
 * rules the SSO sign-in linked to the owner's account, signed the admin in as the owner, and the
 * group mapping demoted the owner to admin: vertical privilege escalation (ASVS 5.0 V8.2.2) and an
 * organization without an owner. Each refusal writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalOidcUser } from '../../scripts/idp/oidc-provider'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { createTestUser, nextTestIp, readUser, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { callerIn, loginThroughIdp, startOidcTestbed, type OidcTestbed } from '../support/oidc-fixtures'
import { expectRefusedWithNothingWritten, loginCapturingAccountState } from '../support/sso-refusals'
import { catchTrpcError } from '../support/trpc-errors'

const adminDomain = 'authority-admin-made.test'
const ownerDomain = 'authority-owner-mapped.test'

/** At the IdP an admin controls, asserting the owner's address (and a group the admin maps to admin). */
const FORGED_OWNER: LocalOidcUser = { email: `owen@${adminDomain}`, password: 'forged-owner-idp-password', name: 'Owen', sub: 'forged-owen', groups: ['eng-admins'] }
const PROMOTED: LocalOidcUser = { email: `pia@${adminDomain}`, password: 'pia-idp-password', name: 'Pia', sub: 'pia' }
const MONA: LocalOidcUser = { email: `mona@${adminDomain}`, password: 'mona-idp-password', name: 'Mona', sub: 'mona' }
const OLIVE: LocalOidcUser = { email: `olive@${ownerDomain}`, password: 'olive-idp-password', name: 'Olive', sub: 'olive', groups: ['owners'] }

let testbed: OidcTestbed
/** Ceiling admin: the mapping an admin may save (admin at most). */
const adminMade = () => testbed.tenants[0]!
/** Ceiling owner: a group mapped to owner, which only an owner may save. */
const ownerMapped = () => testbed.tenants[1]!

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed(
    [FORGED_OWNER, PROMOTED, MONA, OLIVE],
    [
      { domain: adminDomain, groupRoleMap: { 'eng-admins': 'admin' } },
      { domain: ownerDomain, groupRoleMap: { owners: 'owner' } },
    ],
  )
})

afterAll(async () => {
  await testbed?.stop()
})

describe('a connection signs in no account above its ceiling', () => {
  it('an admin-made IdP asserting the owner’s email is refused; the owner keeps role, password and sessions', async () => {
    const { user: owner } = await createTestUser({ email: FORGED_OWNER.email, role: 'owner', organizationId: adminMade().organization.id })
    const ownerSession = await signedInCaller(owner, { ip: nextTestIp() })

    const login = await loginCapturingAccountState(FORGED_OWNER)

    const event = await expectRefusedWithNothingWritten(login, { status: 403, reason: 'role_above_connection' })
    expect(event).toMatchObject({ subjectUserId: owner.id, organizationId: adminMade().organization.id })
    expect(await readUser(owner.id)).toMatchObject({ role: 'owner', passwordHash: owner.passwordHash })
    expect(await sql('SELECT id FROM sso_identities WHERE user_id = ?', [owner.id])).toHaveLength(0)
    expect(await ownerSession.caller.auth.me()).toMatchObject({ status: 'signed-in', user: { id: owner.id, role: 'owner' } })
    expect(await callerIn(login.browser).auth.me()).toBeNull()
  })

  it('an identity linked as a member and later promoted to owner is refused by that connection', async () => {
    await loginThroughIdp(PROMOTED)
    const [row] = await sql('SELECT id FROM users WHERE email = ?', [PROMOTED.email])
    await sql("UPDATE users SET role = 'owner' WHERE id = ?", [row!.id])

    const login = await loginCapturingAccountState(PROMOTED)

    await expectRefusedWithNothingWritten(login, { status: 403, reason: 'role_above_connection' })
    expect((await readUser(row!.id))!.role).toBe('owner')
  })

  it('a session made through the connection stops working when its user is promoted above it (no step-up through it either)', async () => {
    // The admin's IdP signs in as a member (within its authority), then an owner promotes that member.
    const { user: mona } = await createTestUser({ email: MONA.email, organizationId: adminMade().organization.id })
    const { browser } = await loginThroughIdp(MONA)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: mona.id, role: 'member' } })
    const { user: owner } = await createTestUser({ role: 'owner', organizationId: adminMade().organization.id })
    const ownerCaller = (await signedInCaller(owner, { ip: nextTestIp() })).caller

    await ownerCaller.admin.users.setRole({ userId: mona.id, role: 'owner' })

    expect(await callerIn(browser).auth.me()).toBeNull()
    expect(await sql("SELECT id FROM sessions WHERE user_id = ? AND auth_method = 'oidc'", [mona.id])).toHaveLength(0)
    expect(await catchTrpcError(callerIn(browser).auth.beginSsoReauthentication({}))).toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('the other side: a connection whose mapping reaches owner signs an owner in, role kept', async () => {
    const { user: owner } = await createTestUser({ email: OLIVE.email, role: 'owner', organizationId: ownerMapped().organization.id })

    const { response, browser } = await loginThroughIdp(OLIVE)

    expect(response.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: owner.id, role: 'owner' } })
  })
})

describe('only someone of at least the ceiling’s role may change a connection', () => {
  async function signedInAs(role: 'admin' | 'owner', organizationId: string) {
    const { user } = await createTestUser({ role, organizationId })
    return (await signedInCaller(user, { ip: nextTestIp() })).caller
  }

  it('an admin cannot re-point, add a certificate to, disable or delete an owner-mapped connection: FORBIDDEN, nothing written', async () => {
    const admin = await signedInAs('admin', ownerMapped().organization.id)
    const connectionId = ownerMapped().connection.id
    const attempts = [
      () => admin.organization.sso.update({ connectionId, displayName: 'Rogue', issuer: 'https://idp.attacker.example', clientId: 'rogue' }),
      () => admin.organization.sso.addSamlCertificate({ connectionId, certificate: 'an attacker’s signing certificate' }),
      () => admin.organization.sso.setEnabled({ connectionId, isEnabled: false }),
      () => admin.organization.sso.delete({ connectionId }),
      // Its doctor result is what enabling and enforcement rely on.
      () => admin.organization.sso.startTest({ connectionId }),
      // Moving the owners' domain off it (to nothing, or to an IdP of the admin's) is changing it too.
      () => admin.organization.domains.route({ domain: ownerDomain, connectionId: null }),
      () => admin.organization.domains.remove({ domain: ownerDomain }),
    ]
    for (const attempt of attempts) {
      const before = await tableChecksums()
      expect(await catchTrpcError(attempt())).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('only they can change it') })
      expect(await tableChecksums()).toEqual(before)
    }
  })

  it('an owner may change it, and an admin may change a connection within their role', async () => {
    const owner = await signedInAs('owner', ownerMapped().organization.id)
    expect((await owner.organization.sso.setEnabled({ connectionId: ownerMapped().connection.id, isEnabled: false })).connection.status).toBe('disabled')

    const admin = await signedInAs('admin', adminMade().organization.id)
    expect((await admin.organization.sso.setEnabled({ connectionId: adminMade().connection.id, isEnabled: false })).connection.status).toBe('disabled')
  })
})
