/**
 * The SSO console in a real browser (issue 9), against the built server on `localhost` and the
 * real local OIDC provider on `127.0.0.1` (two sites, so neither sees the other's cookies):
 * - an SSO-only admin whose re-authentication went stale passes a sensitive action through the
 *   "Continue with …" popup at the IdP, and the action is retried (with popups blocked: a full-page
 *   round trip back to the same page);
 * - the connection doctor's test sign-in shows its checks, after which enabling the connection works;
 * - under enforcement the break-glass owner still signs in with a password, nobody else does.
 *
 * The organization, its verified domain, the connections and the people are seeded straight into
 * the server's database (with the server's APP_SECRET, so sealed client and TOTP secrets open);
 * the IdP starts on a port chosen first, because the issuer URL is saved in each connection.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startLocalOidcProvider, type LocalOidcProvider } from '../../scripts/idp/oidc-provider'
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/server/auth/mfa'
import { hashPassword } from '../../src/server/auth/password'
import type { DatabaseHandle } from '../../src/server/db/client'
import { resetServerEnvForTests } from '../../src/server/env'
import { createOidcConnection, setSsoConnectionStatus } from '../../src/server/sso/connections'
import { addOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { getOidcRedirectUri } from '../../src/server/sso/oidc/oidc-flow'
import { createUser } from '../../src/server/users/users'
import { getFreePort, startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eOrganization, E2E_PASSWORD, submitPasswordLoginSkippingSso } from './fixtures'

const CLIENT_SECRET = 'e2e-sso-client-secret-for-gatehouse'
const OPERATOR = { byOperator: true } as const
const LOOPBACK_POLICY = { allowedPrivateHosts: ['127.0.0.1', 'localhost'] }
const SCREENS = '/tmp/sso9-screens'

/** A TOTP code from oathtool (independent of the server's implementation). */
function oathtoolCode(base32Key: string, unixSeconds = Date.now() / 1000): string {
  return execFileSync('oathtool', ['--totp', '-b', base32Key, '--now', `@${Math.floor(unixSeconds)}`], { encoding: 'utf8' }).trim()
}

/** Signs in at the local IdP's login page (whatever window shows it). */
async function signInAtIdp(page: Page, credentials: { email: string; password: string }): Promise<void> {
  await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/interaction\//)
  await page.getByLabel('Email').fill(credentials.email)
  await page.getByLabel('Password').fill(credentials.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

describe('the SSO console in a real browser', () => {
  const previousAppSecret = process.env.APP_SECRET
  const appSecret = randomBytes(32).toString('base64url')
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle
  let idp: LocalOidcProvider
  let domain: string
  let enabledConnectionId: string
  let draftConnectionId: string
  const ssoAdmin = { email: '', password: 'idp-password-of-ada-42', name: 'Ada Sso' }
  let member: { id: string; email: string; name: string }
  let owner: { id: string; email: string; name: string; totpKey: string }

  beforeAll(async () => {
    // Secrets sealed here (client secrets, the TOTP key) must open in the server: one APP_SECRET.
    process.env.APP_SECRET = appSecret
    resetServerEnvForTests()
    const idpPort = await getFreePort()
    const issuer = `http://127.0.0.1:${idpPort}`
    ;[server, browser] = await Promise.all([
      startAppServer({
        runId: inject('runId'),
        name: 'e2e_sso_admin',
        publicHost: 'localhost',
        env: { APP_SECRET: appSecret, SSO_ALLOWED_PRIVATE_HOSTS: '127.0.0.1,localhost' },
      }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)
    const { db } = database
    const organization = await createE2eOrganization(database, 'Acme')
    domain = `acme-${randomBytes(3).toString('hex')}.test`
    ssoAdmin.email = `ada@${domain}`
    const deps = { db, now: new Date(), actor: OPERATOR, outboundPolicy: LOOPBACK_POLICY }
    const settings = { organizationId: organization.id, issuer, clientSecret: CLIENT_SECRET, scopes: 'openid email profile groups', groupRoleMap: { 'gatehouse-admins': 'admin' }, defaultRole: 'member' }
    const enabled = await createOidcConnection(deps, { ...settings, displayName: 'Acme Login', clientId: 'gatehouse-e2e-enabled' })
    await setSsoConnectionStatus(deps, { connectionId: enabled.id, status: 'enabled' })
    const draft = await createOidcConnection(deps, { ...settings, displayName: 'Acme Staging', clientId: 'gatehouse-e2e-draft' })
    enabledConnectionId = enabled.id
    draftConnectionId = draft.id
    await addOrganizationDomain(deps, { organizationId: organization.id, domain })
    await verifyOrganizationDomainByOperator(deps, { organizationId: organization.id, domain })
    await setDomainConnection(deps, { organizationId: organization.id, domain, connectionId: enabled.id })

    const appUrl = new URL(server.url)
    idp = await startLocalOidcProvider({
      port: idpPort,
      users: [{ email: ssoAdmin.email, password: ssoAdmin.password, name: ssoAdmin.name, groups: ['gatehouse-admins'] }],
      clients: [
        { clientId: 'gatehouse-e2e-enabled', clientSecret: CLIENT_SECRET, redirectUris: [getOidcRedirectUri(appUrl, enabled.id)] },
        { clientId: 'gatehouse-e2e-draft', clientSecret: CLIENT_SECRET, redirectUris: [getOidcRedirectUri(appUrl, draft.id)] },
      ],
    })

    const passwordHash = await hashPassword(E2E_PASSWORD)
    const verifiedAt = new Date()
    const createdMember = await createUser(db, { email: `max@${domain}`, name: 'Max Member', passwordHash, role: 'member', organizationId: organization.id, emailVerifiedAt: verifiedAt })
    member = { id: createdMember.id, email: createdMember.email, name: createdMember.name }
    const createdOwner = await createUser(db, { email: `olga@${domain}`, name: 'Olga Owner', passwordHash, role: 'owner', organizationId: organization.id, emailVerifiedAt: verifiedAt })
    // The enrollment spends the step before now, so the sign-in below can use the current one.
    const enrolledAt = new Date(Date.now() - 30_000)
    const enrollment = await beginTotpEnrollment(db, createdOwner, enrolledAt)
    const confirmed = await confirmTotpEnrollment(db, createdOwner.id, oathtoolCode(enrollment.secret, enrolledAt.getTime() / 1000), enrolledAt)
    if (!confirmed.ok) throw new Error(`test enrollment failed: ${confirmed.reason}`)
    owner = { id: createdOwner.id, email: createdOwner.email, name: createdOwner.name, totpKey: enrollment.secret }
  })

  afterAll(async () => {
    await idp?.stop()
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
    if (previousAppSecret === undefined) delete process.env.APP_SECRET
    else process.env.APP_SECRET = previousAppSecret
    resetServerEnvForTests()
  })

  /** Signs the SSO admin in through the IdP in a fresh context (the SSO start route; the login page is not involved). */
  async function signInSsoAdmin(redirect: string) {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await page.goto(`${server.url}/api/auth/sso/start?connection=${enabledConnectionId}&redirect=${encodeURIComponent(redirect)}`)
    await signInAtIdp(page, ssoAdmin)
    await page.waitForURL(`${server.url}${redirect}`)
    return { context, page, errors }
  }

  it('an SSO-only admin with a stale re-authentication changes a role through the IdP popup, and the change is retried', async () => {
    const { context, page, errors } = await signInSsoAdmin('/admin')
    const [adminRow] = await database.db.execute(sql`SELECT id FROM users WHERE email = ${ssoAdmin.email}`)
    const adminId = (adminRow as unknown as Array<{ id: string }>)[0]!.id
    // The people table says how each member signs in.
    await page.screenshot({ path: `${SCREENS}/admin-people.png`, fullPage: true })
    const adminTableRow = page.getByTestId('admin-user-row').filter({ hasText: ssoAdmin.name })
    await adminTableRow.getByText('Signs in with single sign-on').waitFor()
    await adminTableRow.getByText('Last SSO sign-in', { exact: false }).waitFor()
    await database.db.execute(sql`UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE user_id = ${adminId}`)

    await page.getByLabel(`Role of ${member.name}`).selectOption('admin')
    await page.getByRole('dialog', { name: `Make ${member.name} admin?` }).getByRole('button', { name: 'Change role' }).click()
    const reauth = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await reauth.waitFor()
    // No password to ask an SSO-only account for, and no code without TOTP: only the IdP.
    expect(await reauth.getByLabel('Password').count()).toBe(0)
    expect(await reauth.getByLabel('Authentication code').count()).toBe(0)
    await page.screenshot({ path: `${SCREENS}/reauth-sso-dialog.png`, fullPage: true })

    const popupOpened = page.waitForEvent('popup')
    await reauth.getByRole('button', { name: 'Continue with Acme Login' }).click()
    const popup = await popupOpened
    await signInAtIdp(popup, ssoAdmin)
    await page.getByText(`${member.name} is now admin.`).waitFor()
    // The completion page closed itself after telling the dialog.
    await expect.poll(() => popup.isClosed()).toBe(true)
    expect(await reauth.count()).toBe(0)
    const [roleRow] = await database.db.execute(sql`SELECT role FROM users WHERE id = ${member.id}`)
    expect((roleRow as unknown as Array<{ role: string }>)[0]!.role).toBe('admin')
    await page.getByTestId('audit-log').getByText(`${ssoAdmin.name} changed ${member.name}’s role`, { exact: false }).waitFor()

    // The audit log's filters go to the server: only role changes, only about the member.
    const auditFilters = page.getByRole('form', { name: 'Filter the audit log' })
    await auditFilters.getByLabel('Event').selectOption({ label: 'Role changed' })
    await auditFilters.getByLabel('Person').selectOption({ label: member.name })
    await expect.poll(() => page.getByTestId('audit-event').allTextContents()).toEqual([expect.stringContaining(`${ssoAdmin.name} changed ${member.name}’s role from Member to Admin.`)])
    await auditFilters.getByLabel('To').fill('2001-01-01')
    await page.getByText('No events match these filters.').waitFor()

    // An SSO-only account has no password to change.
    await page.goto(`${server.url}/settings/security`)
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor()
    expect(await page.getByRole('heading', { name: 'Password', exact: true }).count()).toBe(0)
    expect(errors).toEqual([])
    await context.close()
  })

  it('with popups blocked, the step-up is a full-page round trip that comes back to the same page', async () => {
    const { context, page, errors } = await signInSsoAdmin('/admin')
    const [adminRow] = await database.db.execute(sql`SELECT id FROM users WHERE email = ${ssoAdmin.email}`)
    const adminId = (adminRow as unknown as Array<{ id: string }>)[0]!.id
    await database.db.execute(sql`UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE user_id = ${adminId}`)
    // What a popup blocker does: window.open answers null.
    await page.evaluate(() => {
      window.open = () => null
    })
    await page.getByLabel(`Role of ${member.name}`).selectOption('member')
    await page.getByRole('dialog', { name: `Make ${member.name} member?` }).getByRole('button', { name: 'Change role' }).click()
    await page.getByRole('dialog', { name: 'Confirm it’s you' }).getByRole('button', { name: 'Continue with Acme Login' }).click()
    await signInAtIdp(page, ssoAdmin)
    await page.waitForURL(`${server.url}/admin`)
    // Back, re-authenticated: the same action now goes through without asking.
    await page.getByLabel(`Role of ${member.name}`).selectOption('member')
    await page.getByRole('dialog', { name: `Make ${member.name} member?` }).getByRole('button', { name: 'Change role' }).click()
    await page.getByText(`${member.name} is now member.`).waitFor()
    expect(await page.getByRole('dialog', { name: 'Confirm it’s you' }).count()).toBe(0)
    expect(errors).toEqual([])
    await context.close()
  })

  it('a doctor test sign-in shows its checks, after which enabling the connection works', async () => {
    const { context, page, errors } = await signInSsoAdmin('/admin/sso')
    await page.getByRole('link', { name: 'Acme Staging' }).waitFor()
    await page.screenshot({ path: `${SCREENS}/admin-sso.png`, fullPage: true })

    // A new connection: the role map offers roles up to the admin's own, the secret field is write-only.
    await page.getByRole('button', { name: 'New OIDC connection' }).click()
    const form = page.getByRole('form', { name: 'New OIDC connection' })
    await form.getByLabel('Name', { exact: true }).fill('Acme Dev')
    await form.getByLabel('Issuer URL').fill(idp.issuer)
    await form.getByLabel('Client ID').fill('gatehouse-e2e-dev')
    await form.getByLabel('Client secret').fill('a-dev-client-secret')
    expect(await form.getByLabel('Client secret').getAttribute('type')).toBe('password')
    await form.getByRole('button', { name: 'Add a group' }).click()
    await form.getByLabel('Group 1', { exact: true }).fill('engineering')
    expect(await form.getByLabel('Role for group 1').locator('option').allTextContents()).toEqual(['Member', 'Admin'])
    await form.getByLabel('MFA amr values').fill('mfa, hwk')
    await page.screenshot({ path: `${SCREENS}/admin-sso-new-connection.png`, fullPage: true })
    await form.getByRole('button', { name: 'Create connection' }).click()
    await page.getByRole('heading', { name: 'Acme Dev', level: 1 }).waitFor()
    expect(page.url()).toMatch(new RegExp(`^${server.url}/admin/sso/[a-z0-9]+$`))
    expect(await page.getByRole('textbox', { name: 'Redirect URI' }).inputValue()).toBe(`${server.url}/api/auth/oidc/${page.url().split('/').pop()}/callback`)
    expect(await page.getByLabel('Client secret').inputValue()).toBe('')
    expect(await page.getByRole('button', { name: 'Enable Acme Dev' }).isDisabled()).toBe(true)
    await page.getByRole('link', { name: 'Single sign-on' }).click()
    await page.getByRole('link', { name: 'Acme Staging' }).click()
    await page.waitForURL(`${server.url}/admin/sso/${draftConnectionId}`)
    const enable = page.getByRole('button', { name: 'Enable Acme Staging' })
    expect(await enable.isDisabled()).toBe(true)
    await page.getByText('Run a successful test sign-in first.').waitFor()

    // The IdP remembers the admin from the sign-in just now: it may not ask again.
    await page.getByRole('button', { name: 'Test sign-in' }).click()
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/') || url.href === `${server.url}/admin/sso/${draftConnectionId}`)
    if (page.url().includes('/interaction/')) await signInAtIdp(page, ssoAdmin)
    await page.waitForURL(`${server.url}/admin/sso/${draftConnectionId}`)
    const result = page.getByTestId('doctor-result')
    await result.getByText('Passed').waitFor()
    const checks = await result.getByTestId('doctor-check').allTextContents()
    for (const label of ['Signature and key (kid)', 'Nonce', 'Email verified by the IdP', 'Domain verified for this organization', 'Groups and role']) {
      expect(checks.some((text) => text.startsWith(label) && text.endsWith('Pass'))).toBe(true)
    }
    expect(await result.getByTestId('doctor-claims').textContent()).toContain(ssoAdmin.email)
    await page.screenshot({ path: `${SCREENS}/admin-sso-connection-doctor.png`, fullPage: true })

    expect(await enable.isDisabled()).toBe(false)
    await enable.click()
    await page.getByText('Acme Staging is enabled.').waitFor()
    await page.getByRole('button', { name: 'Disable Acme Staging' }).waitFor()
    // Turning it on keeps the test result (only a change of settings or secret voids it).
    await result.getByText('Passed').waitFor()
    expect(await page.getByText('Test it again', { exact: false }).count()).toBe(0)
    expect(errors).toEqual([])

    await page.getByRole('link', { name: 'Domains' }).click()
    await page.waitForURL(`${server.url}/admin/domains`)
    await page.getByLabel('Domain', { exact: true }).fill(`pending-${randomBytes(2).toString('hex')}.test`)
    await page.getByRole('button', { name: 'Add domain' }).click()
    await page.getByLabel('Record value').first().waitFor()
    await page.getByRole('button', { name: /^Verify now pending-/ }).click()
    await page.getByText('No TXT record was found', { exact: false }).or(page.getByText('The DNS lookup', { exact: false })).first().waitFor()
    await page.screenshot({ path: `${SCREENS}/admin-domains.png`, fullPage: true })
    await page.getByRole('button', { name: /^Remove pending-/ }).click()
    await page.getByRole('dialog', { name: /^Remove pending-/ }).getByRole('button', { name: 'Remove domain' }).click()
    await page.getByText(/^pending-.* removed\.$/).waitFor()
    await expect.poll(() => page.getByTestId('domain-row').count()).toBe(1)
    expect(errors).toEqual([])
    await context.close()
  })

  it('under enforcement the break-glass owner still signs in with a password, and others cannot', async () => {
    // The owner turns enforcement on as the break-glass owner (password + TOTP in this session).
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    // The owner's domain already routes to SSO: the password form is reached through the link.
    await page.goto(`${server.url}/login`)
    await submitPasswordLoginSkippingSso(page, { email: owner.email, password: E2E_PASSWORD })
    await page.getByLabel('Authentication code').fill(oathtoolCode(owner.totpKey))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForURL(`${server.url}/app`)
    await page.goto(`${server.url}/admin/sso`)
    const policy = page.getByRole('form', { name: 'Single sign-on policy' })
    await policy.getByLabel('Require single sign-on').check()
    // Without a break-glass owner the server refuses, and its sentence is shown as is.
    await policy.getByRole('button', { name: 'Save policy' }).click()
    await policy.getByRole('alert').getByText('Choose a break-glass owner who has a password and two-factor authentication turned on.').waitFor()
    await policy.getByLabel('Break-glass owner').selectOption(owner.id)
    await policy.getByRole('button', { name: 'Save policy' }).click()
    const enforced = page.getByText('Single sign-on is now required.', { exact: false })
    await enforced.or(policy.getByRole('alert')).first().waitFor()
    // A refusal names the first unmet precondition; none is expected here.
    expect(await policy.getByRole('alert').allTextContents()).toEqual([])
    await enforced.waitFor()
    await page.screenshot({ path: `${SCREENS}/admin-sso-enforced.png`, fullPage: true })
    expect(errors).toEqual([])
    await context.close()

    // Under enforcement the email step sends these addresses to the IdP; the small "Sign in with a
    // password" link still reaches the password form, where only the break-glass owner gets in.
    const memberContext = await newIsolatedContext(browser)
    const memberPage = await memberContext.newPage()
    await memberPage.goto(`${server.url}/login`)
    await submitPasswordLoginSkippingSso(memberPage, { email: member.email, password: E2E_PASSWORD })
    await memberPage.getByRole('alert').filter({ hasText: /incorrect|not correct|invalid/i }).first().waitFor()
    expect(memberPage.url()).toMatch(new RegExp(`^${server.url}/login`))
    await memberContext.close()

    const ownerContext = await newIsolatedContext(browser)
    const ownerPage = await ownerContext.newPage()
    await ownerPage.goto(`${server.url}/login`)
    await submitPasswordLoginSkippingSso(ownerPage, { email: owner.email, password: E2E_PASSWORD })
    await ownerPage.getByLabel('Authentication code').fill(oathtoolCode(owner.totpKey, Date.now() / 1000 + 30))
    await ownerPage.getByRole('button', { name: 'Verify' }).click()
    await ownerPage.waitForURL(`${server.url}/app`)
    await ownerContext.close()
  })
})
