/**
 * Role-gated UI and the re-authentication dialog in a real browser.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { DatabaseHandle } from '../../src/server/db/client'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { ageReauthentication, collectPageErrors, connectToAppDatabase, createE2eOrganization, createE2eUser, signInThroughUi, submitLoginForm, type E2eUser } from './fixtures'

describe('roles and re-authentication in a real browser', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle
  let admin: E2eUser
  let member: E2eUser

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([
      startAppServer({ runId: inject('runId'), name: 'e2e_roles' }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)
    const organization = await createE2eOrganization(database, 'Umbrella')
    admin = await createE2eUser(database, { name: 'Ada Admin', role: 'admin', organizationId: organization.id, emailPrefix: 'admin' })
    member = await createE2eUser(database, { name: 'Max Member', role: 'member', organizationId: organization.id, emailPrefix: 'member' })
  })
  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it('hides the admin console from a member, in the first HTML and on direct navigation', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await signInThroughUi(page, server.url, member)

    const firstHtml = await (await page.goto(`${server.url}/app`, { waitUntil: 'commit' }))!.text()
    expect(firstHtml).toContain('href="/settings/security"')
    expect(firstHtml).not.toContain('href="/admin"')

    await page.goto(`${server.url}/admin`)
    expect(page.url()).toBe(`${server.url}/app?notice=role-required&role=admin`)
    await page.getByText('That page needs the Admin role.', { exact: false }).waitFor()
    expect(errors).toEqual([])
    await context.close()
  })

  it('shows an admin their organization and signs a member out everywhere', async () => {
    const memberContext = await newIsolatedContext(browser)
    const memberPage = await memberContext.newPage()
    await signInThroughUi(memberPage, server.url, member)

    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await signInThroughUi(page, server.url, admin)
    const firstHtml = await (await page.goto(`${server.url}/app`, { waitUntil: 'commit' }))!.text()
    expect(firstHtml).toContain('href="/admin"')

    await page.getByRole('link', { name: 'Admin', exact: true }).click()
    await page.waitForURL(`${server.url}/admin`)
    await expect.poll(() => page.getByTestId('admin-user-row').count()).toBe(2)
    // The overview comes from a role-guarded server function, rendered during SSR and on navigation.
    expect(await page.getByTestId('organization-summary').textContent()).toMatch(/2 people, 0 with two-factor authentication, \d+ signed-in devices/)
    await page.screenshot({ path: '/tmp/gatehouse-admin.png', fullPage: true })
    await page.getByRole('button', { name: `Revoke sessions of ${member.name}` }).click()
    await page.getByRole('dialog', { name: `Sign out every session of ${member.name}?` }).getByRole('button', { name: 'Revoke sessions' }).click()
    // The member signed in in the test above too: every one of those sessions ends.
    await page.getByText(new RegExp(`^\\d+ sessions? of ${member.name} signed out\\.$`)).waitFor()

    // The member's tab learns it the moment it asks the server anything.
    await memberPage.goto(`${server.url}/settings/security`)
    expect(memberPage.url()).toBe(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)

    // Disabling the member (the admin signed in moments ago, so no re-auth prompt) shows in the row.
    await page.getByRole('button', { name: `Disable ${member.name}` }).click()
    await page.getByRole('dialog', { name: `Disable ${member.name}?` }).getByRole('button', { name: 'Disable' }).click()
    await page.getByText(`${member.name} is disabled;`, { exact: false }).waitFor()
    await page.getByRole('button', { name: `Enable ${member.name}` }).click()
    await page.getByText(`${member.name} can sign in again.`).waitFor()
    // Both changes are in the organization's audit log, attributed to the admin.
    const auditLog = page.getByTestId('audit-log')
    await auditLog.getByText(`${admin.name} disabled the account of ${member.name}.`, { exact: false }).waitFor()
    await auditLog.getByText(`${admin.name} enabled the account of ${member.name} again.`).waitFor()
    await page.screenshot({ path: '/tmp/gatehouse-admin-audit.png', fullPage: true })
    expect(errors).toEqual([])
    await context.close()
    await memberContext.close()
  })

  it('asks to confirm the password when a change needs a fresh re-authentication, then retries it', async () => {
    const user = await createE2eUser(database, { name: 'Reese Reauth' })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await signInThroughUi(page, server.url, user)
    await ageReauthentication(database, user.id)

    await page.goto(`${server.url}/settings/security`)
    await page.getByLabel('Current password').fill(user.password)
    const newPassword = 'velvet harbor compass 19 drift'
    await page.getByLabel('New password').fill(newPassword)
    await page.getByRole('button', { name: 'Change password' }).click()

    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await dialog.waitFor()
    await page.screenshot({ path: '/tmp/gatehouse-reauth.png', fullPage: true })
    await dialog.getByLabel('Password').fill('wrong password entirely')
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => dialog.getByText('That password is not correct.').count()).toBe(1)
    // A wrong re-auth password (401) must not look like a lost session.
    expect(page.url()).toBe(`${server.url}/settings/security`)

    await dialog.getByLabel('Password').fill(user.password)
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await page.getByText('Password changed.').waitFor()
    await expect.poll(() => dialog.count()).toBe(0)
    expect(await page.getByLabel('New password').inputValue()).toBe('')

    // The new password works.
    await page.getByRole('button', { name: 'Sign out' }).first().click()
    await page.waitForURL(`${server.url}/login`)
    await submitLoginForm(page, { email: user.email, password: newPassword })
    await page.waitForURL(`${server.url}/app`)
    expect(errors).toEqual([])
    await context.close()
  })

  it('shows the password policy message from the server inline', async () => {
    const user = await createE2eUser(database, { name: 'Polly Policy' })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    await signInThroughUi(page, server.url, user)
    await page.goto(`${server.url}/settings/security`)
    await page.getByLabel('Current password').fill(user.password)
    await page.getByLabel('New password').fill('short')
    await page.getByRole('button', { name: 'Change password' }).click()
    const newPasswordField = page.getByLabel('New password')
    // The answer needs an argon2 check of the current password: allow for a loaded machine.
    await expect.poll(() => newPasswordField.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true')
    const describedBy = (await newPasswordField.getAttribute('aria-describedby'))!.split(' ').at(-1)!
    const message = await page.locator(`[id="${describedBy}"]`).textContent()
    expect(message).toMatch(/at least \d+ characters/i)
    await context.close()
  })
})
