/**
 * Mandatory SSO must not be undone by a routine click into a lock-out: while it is on, nothing may
 * leave a verified domain without an enabled connection (its members could use neither a password
 * nor SSO), and the break-glass owner — the way back in when the IdP fails — cannot be demoted,
 * disabled or stripped of their second factor. Each refusal writes nothing; with enforcement off
 * the same actions work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestUser, signedInCaller, sql, tableChecksums, TEST_PASSWORD } from '../support/auth-fixtures'
import { enrollTotpForTests } from '../support/mfa-fixtures'
import { startOidcTestbed, type OidcTestbed, type OidcTestTenant } from '../support/oidc-fixtures'
import { expectAppError } from '../support/trpc-errors'

let testbed: OidcTestbed

beforeAll(async () => {
  testbed = await startOidcTestbed([], [{}, {}])
})

afterAll(async () => {
  await testbed?.stop()
})

/** An organization with SSO mandatory: an owner acting, and the break-glass owner (password + TOTP). */
async function enforcedTenant(tenant: OidcTestTenant) {
  const organizationId = tenant.organization.id
  const { user: owner } = await createTestUser({ role: 'owner', organizationId })
  const { user: breakGlass } = await createTestUser({ role: 'owner', organizationId })
  await enrollTotpForTests(breakGlass)
  await sql('UPDATE organizations SET sso_enforced_at = UTC_TIMESTAMP(3), break_glass_user_id = ? WHERE id = ?', [breakGlass.id, organizationId])
  const acting = await signedInCaller(owner)
  const breakGlassSession = await signedInCaller(breakGlass, { isMfaSatisfied: true })
  return { tenant, owner, breakGlass, acting: acting.caller, breakGlassCaller: breakGlassSession.caller }
}

async function expectRefusedWithNothingWritten(call: Promise<unknown>): Promise<void> {
  const before = await tableChecksums()
  await expectAppError(call, 'FORBIDDEN')
  expect(await tableChecksums()).toEqual(before)
}

describe('while SSO is mandatory', () => {
  it('the only connection cannot be disabled or deleted, nor a verified domain unrouted or removed', async () => {
    const { tenant, acting } = await enforcedTenant(testbed.tenants[0]!)
    await expectRefusedWithNothingWritten(acting.organization.sso.setEnabled({ connectionId: tenant.connection.id, isEnabled: false }))
    await expectRefusedWithNothingWritten(acting.organization.sso.delete({ connectionId: tenant.connection.id }))
    await expectRefusedWithNothingWritten(acting.organization.domains.route({ domain: tenant.domain, connectionId: null }))
    await expectRefusedWithNothingWritten(acting.organization.domains.remove({ domain: tenant.domain }))

    // The other side: with mandatory SSO off, the same change goes through.
    await sql('UPDATE organizations SET sso_enforced_at = NULL WHERE id = ?', [tenant.organization.id])
    expect((await acting.organization.sso.setEnabled({ connectionId: tenant.connection.id, isEnabled: false })).connection.status).toBe('disabled')
  })

  it('the break-glass owner cannot be demoted, disabled or have their second factor reset, nor turn it off themselves', async () => {
    const { breakGlass, acting, breakGlassCaller } = await enforcedTenant(testbed.tenants[1]!)
    await expectRefusedWithNothingWritten(acting.admin.users.setRole({ userId: breakGlass.id, role: 'admin' }))
    await expectRefusedWithNothingWritten(acting.admin.users.setDisabled({ userId: breakGlass.id, isDisabled: true }))
    await expectRefusedWithNothingWritten(acting.admin.users.resetMfa({ userId: breakGlass.id }))
    await expectRefusedWithNothingWritten(breakGlassCaller.mfa.disable({ currentPassword: TEST_PASSWORD }))
  })
})
