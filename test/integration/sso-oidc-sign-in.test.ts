/**
 * OIDC sign-in end to end against the real local provider (oidc-provider 9): email-first discovery,
 * authorization code + PKCE, the callback route, just-in-time provisioning, group → role mapping,
 * caching of discovery and keys, and refusal of disabled users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { sql } from '../support/auth-fixtures'
import { auditEventsOfType } from '../support/sso-fixtures'
import { callerIn, loginThroughIdp, startOidcTestbed, type OidcTestbed } from '../support/oidc-fixtures'

const domain = 'oidc-sign-in.test'
const ADA = { email: `ada@${domain}`, password: 'ada-idp-password', name: 'Ada Admin', groups: ['idp-admins'], sub: 'ada-subject' }

let testbed: OidcTestbed

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed([ADA], [{ groupRoleMap: { 'idp-admins': 'admin' }, defaultRole: 'member', domain }])
})

afterAll(async () => {
  await testbed?.stop()
})

describe('OIDC sign-in', () => {
  it('a first sign-in provisions the user in the organization and lands on the requested page', async () => {
    const { response, location, browser } = await loginThroughIdp(ADA, { redirect: '/settings/security' })
    expect(response.status).toBe(303)
    expect(location).toBe('/settings/security')
    const viewer = await callerIn(browser).auth.me()
    expect(viewer).toMatchObject({ status: 'signed-in', user: { email: `ada@${domain}`, role: 'admin', organization: { id: testbed.tenants[0]!.organization.id } }, session: { authMethod: 'oidc' } })
    const [user] = await sql('SELECT password_hash, email_verified_at FROM users WHERE email = ?', [`ada@${domain}`])
    expect(user!.password_hash).toBeNull()
    expect(user!.email_verified_at).not.toBeNull()
    expect((await auditEventsOfType('user.provisioned')).length).toBeGreaterThan(0)
  })
})
