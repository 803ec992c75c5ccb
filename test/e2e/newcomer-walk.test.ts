/**
 * A first-time user's walk (issue 12), in a real browser: the places where a newcomer was
 * confused, misled or shown internals, each checked where only a browser can see it. Screenshots
 * for review go to /tmp/walk-screens/.
 */
import { mkdirSync } from 'node:fs'
import { sql } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { hashPassword } from '../../src/server/auth/password'
import { issueOneTimeToken } from '../../src/server/auth/one-time-tokens'
import type { DatabaseHandle } from '../../src/server/db/client'
import { createUser } from '../../src/server/users/users'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eOrganization, createE2eUser, E2E_PASSWORD, signInThroughUi, submitLoginForm, waitForHydration, type E2eUser } from './fixtures'

const SCREENSHOT_DIR = '/tmp/walk-screens'

describe('a first-time user’s walk', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle
  let organizationId: string
  let owner: E2eUser
  let admin: E2eUser
  let member: E2eUser
  let memberWithMfa: E2eUser

  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true })
    ;[server, browser] = await Promise.all([startAppServer({ runId: inject('runId'), name: 'e2e_walk' }), launchBrowser()])
    database = connectToAppDatabase(server.databaseUrl)
    const organization = await createE2eOrganization(database, 'Initech')
    organizationId = organization.id
    owner = await createE2eUser(database, { name: 'Olivia Owner', role: 'owner', organizationId, emailPrefix: 'owner' })
    admin = await createE2eUser(database, { name: 'Ada Admin', role: 'admin', organizationId, emailPrefix: 'admin' })
    member = await createE2eUser(database, { name: 'Max Member', role: 'member', organizationId, emailPrefix: 'member' })
    memberWithMfa = await createE2eUser(database, { name: 'Mo Factor', role: 'member', organizationId, emailPrefix: 'factor' })
    // Both have an authenticator (marked only: neither signs in here), so "Reset MFA" is a candidate on both rows.
    await database.db.execute(sql`UPDATE users SET mfa_enabled_at = NOW() WHERE id IN (${owner.id}, ${memberWithMfa.id})`)
  })
  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  async function openPage(): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    return { page, errors: collectPageErrors(page), close: () => context.close() }
  }

  function rowOf(page: Page, user: E2eUser) {
    return page.getByTestId('admin-user-row').filter({ hasText: user.email })
  }

  /** Every button and link whose accessible name comes from aria-label, with its visible text. */
  async function labelledControls(page: Page): Promise<Array<{ visible: string; name: string }>> {
    return page.evaluate(() =>
      [...document.querySelectorAll('button[aria-label], a[aria-label], select[aria-label]')]
        .filter((element) => (element as HTMLElement).offsetParent !== null)
        .map((element) => ({ visible: ((element as HTMLElement).innerText ?? '').trim(), name: element.getAttribute('aria-label') ?? '' })),
    )
  }

  it('the home page is a front door, not a debug page', async () => {
    const { page, errors, close } = await openPage()
    const firstHtml = await (await page.goto(server.url, { waitUntil: 'commit' }))!.text()
    expect(firstHtml).not.toContain('organization-count')
    expect(firstHtml).not.toContain('Show roles')
    await page.waitForLoadState('networkidle')
    expect(await page.getByText('two-factor authentication', { exact: false }).count()).toBeGreaterThan(0)
    await page.screenshot({ path: `${SCREENSHOT_DIR}/home.png`, fullPage: true })
    await page.getByRole('main').getByRole('link', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${server.url}/login`)

    await signInThroughUi(page, server.url, member)
    await page.goto(server.url)
    await page.getByRole('link', { name: 'Security settings' }).first().click()
    await page.waitForURL(`${server.url}/settings/security`)
    await page.goto(server.url)
    // A member is not offered the console.
    expect(await page.getByRole('link', { name: 'Admin console' }).count()).toBe(0)
    await page.screenshot({ path: `${SCREENSHOT_DIR}/home-signed-in.png`, fullPage: true })
    expect(errors).toEqual([])
    await close()
  })

  it('the 404 page links home', async () => {
    const { page, close } = await openPage()
    const response = await page.goto(`${server.url}/no/such/page`)
    expect(response!.status()).toBe(404)
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()
    await page.screenshot({ path: `${SCREENSHOT_DIR}/not-found.png` })
    await page.getByRole('link', { name: 'Go to the home page' }).click()
    await page.waitForURL(`${server.url}/`)
    await page.getByTestId('app-name').waitFor()
    await close()
  })

  it('offers an admin no action the server refuses on the owner’s row, and the usual ones on a member’s', async () => {
    const { page, errors, close } = await openPage()
    await signInThroughUi(page, server.url, admin)
    await page.goto(`${server.url}/admin`)
    const ownerRow = rowOf(page, owner)
    await ownerRow.waitFor()
    // The owner outranks the admin: no control at all (the server answers 403 to each of them).
    expect(await ownerRow.getByRole('button').count()).toBe(0)
    expect(await ownerRow.getByRole('combobox').count()).toBe(0)
    expect(await ownerRow.textContent()).toContain('Owner')

    const memberRow = rowOf(page, memberWithMfa)
    for (const name of [`Reset MFA of ${memberWithMfa.name}`, `Disable ${memberWithMfa.name}`, `Revoke sessions of ${memberWithMfa.name}`]) {
      expect(await memberRow.getByRole('button', { name }).count()).toBe(1)
    }
    // Roles up to the admin's own, never owner.
    expect(await memberRow.getByRole('combobox', { name: `Role of ${memberWithMfa.name}` }).locator('option').allTextContents()).toEqual(['Member', 'Admin'])
    // On their own row an admin can only sign out their other sessions.
    const ownRow = rowOf(page, admin)
    expect(await ownRow.getByRole('button').allTextContents()).toEqual(['Revoke sessions'])
    expect(errors).toEqual([])
    await close()
  })

  it('role change and disable ask to confirm first, like Reset MFA', async () => {
    const { page, errors, close } = await openPage()
    await signInThroughUi(page, server.url, admin)
    await page.goto(`${server.url}/admin`)
    await waitForHydration(page)
    const memberRow = rowOf(page, member)
    const roleSelect = memberRow.getByRole('combobox', { name: `Role of ${member.name}` })

    // Picking a role only asks; cancelling leaves everything as it was.
    await roleSelect.selectOption('admin')
    const roleDialog = page.getByRole('dialog', { name: `Make ${member.name} admin?` })
    await roleDialog.waitFor()
    await roleDialog.getByRole('button', { name: 'Cancel' }).click()
    await expect.poll(() => roleDialog.count()).toBe(0)
    expect(await roleSelect.inputValue()).toBe('member')
    const [row] = await database.db.execute(sql`SELECT role FROM users WHERE id = ${member.id}`)
    expect((row as unknown as Array<{ role: string }>)[0]!.role).toBe('member')

    await roleSelect.selectOption('admin')
    await roleDialog.getByRole('button', { name: 'Change role' }).click()
    await page.getByText(`${member.name} is now admin.`).waitFor()
    await page.getByTestId('audit-log').getByText(`${admin.name} changed ${member.name}’s role from Member to Admin.`).waitFor()
    await roleSelect.selectOption('member')
    await page.getByRole('dialog', { name: `Make ${member.name} member?` }).getByRole('button', { name: 'Change role' }).click()
    await page.getByText(`${member.name} is now member.`).waitFor()

    // Disable asks too; re-enabling takes nothing away and does not.
    await memberRow.getByRole('button', { name: `Disable ${member.name}` }).click()
    const disableDialog = page.getByRole('dialog', { name: `Disable ${member.name}?` })
    await disableDialog.getByRole('button', { name: 'Cancel' }).click()
    expect(await memberRow.getByText('Active').count()).toBe(1)
    await memberRow.getByRole('button', { name: `Disable ${member.name}` }).click()
    await disableDialog.getByRole('button', { name: 'Disable' }).click()
    await page.getByText(`${member.name} is disabled;`, { exact: false }).waitFor()
    await memberRow.getByRole('button', { name: `Enable ${member.name}` }).click()
    await page.getByText(`${member.name} can sign in again.`).waitFor()
    expect(errors).toEqual([])
    await close()
  })

  it('the console refreshes what a change affects: device count after revoking, audit log after an MFA policy save', async () => {
    const memberSession = await openPage()
    await signInThroughUi(memberSession.page, server.url, member)

    const { page, errors, close } = await openPage()
    await signInThroughUi(page, server.url, admin)
    await page.goto(`${server.url}/admin`)
    const summary = page.getByTestId('organization-summary')
    const devices = async () => Number(/(\d+) signed-in devices?/.exec((await summary.textContent()) ?? '')![1])
    const before = await devices()
    expect(before).toBeGreaterThanOrEqual(2)

    await rowOf(page, member).getByRole('button', { name: `Revoke sessions of ${member.name}` }).click()
    await page.getByRole('dialog', { name: `Sign out every session of ${member.name}?` }).getByRole('button', { name: 'Revoke sessions' }).click()
    await page.getByText(new RegExp(`^\\d+ sessions? of ${member.name} signed out\\.$`)).waitFor()
    await expect.poll(devices).toBeLessThan(before)
    await page.getByTestId('audit-log').getByText(`${admin.name} signed out every session of ${member.name}`, { exact: false }).waitFor()

    // A policy that would force the admin into enrollment is refused, with the way to fix it.
    await page.getByLabel('Required for everyone').check()
    await page.getByRole('button', { name: 'Save policy' }).click()
    await page.getByText('Turn on two-factor authentication for your own account before requiring it.', { exact: false }).waitFor()
    expect(await page.getByRole('link', { name: 'Set up two-factor authentication in your security settings' }).getAttribute('href')).toBe('/settings/security')

    // One that does not is saved, and the log shows it without a reload.
    await page.getByLabel('Required from a role up').check()
    await page.getByLabel('Lowest role that must use it').selectOption('owner')
    await page.getByRole('button', { name: 'Save policy' }).click()
    await page.getByTestId('audit-log').getByText(`${admin.name} made two-factor authentication required for owners and above (it was optional).`).waitFor()
    // As a reviewer sees it: once the toasts are gone.
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), { timeout: 15_000 }).toBe(0)
    await page.screenshot({ path: `${SCREENSHOT_DIR}/admin-console.png`, fullPage: true })
    expect(errors).toEqual([])
    await close()
    await memberSession.close()
  })

  it('the audit log reads as sentences and pages through older events', async () => {
    const { page, errors, close } = await openPage()
    await signInThroughUi(page, server.url, admin)
    await page.goto(`${server.url}/admin`)
    await page.getByTestId('audit-log').waitFor()
    // Enough events for a second page: disable and re-enable the member over the API, as the console does.
    await page.evaluate(async (userId) => {
      for (let index = 0; index < 14; index++) {
        for (const isDisabled of [true, false]) {
          const response = await fetch('/api/trpc/admin.users.setDisabled', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ userId, isDisabled }),
          })
          if (!response.ok) throw new Error(`setDisabled answered ${response.status}`)
        }
      }
    }, member.id)
    await page.reload()
    const auditLog = page.getByTestId('audit-log')
    await expect.poll(() => auditLog.getByTestId('audit-event').count()).toBe(25)
    const text = (await auditLog.textContent()) ?? ''
    expect(text).not.toMatch(/[{}"]|_[a-z]|\b(true|false)\b|Mfa enrolled|Session revoked all/)
    await page.locator('section').filter({ has: auditLog }).screenshot({ path: `${SCREENSHOT_DIR}/audit-log.png` })

    const firstOnPageOne = await auditLog.getByTestId('audit-event').first().textContent()
    await page.getByRole('button', { name: 'Older events' }).click()
    await page.getByText('Page 2').waitFor()
    await expect.poll(() => auditLog.getByTestId('audit-event').first().textContent()).not.toBe(firstOnPageOne)
    await page.getByRole('button', { name: 'Newer events' }).click()
    await page.getByText('Page 1').waitFor()
    await expect.poll(() => auditLog.getByTestId('audit-event').first().textContent()).toBe(firstOnPageOne)
    expect(errors).toEqual([])
    await close()
  })

  it('accessible names match the visible labels (WCAG 2.5.3) in the console and the security settings', async () => {
    const { page, close } = await openPage()
    await signInThroughUi(page, server.url, admin)
    const mismatches: string[] = []
    for (const path of ['/admin', '/settings/security']) {
      await page.goto(`${server.url}${path}`)
      await page.waitForLoadState('networkidle')
      for (const { visible, name } of await labelledControls(page)) {
        if (visible && !name.toLowerCase().startsWith(visible.toLowerCase())) mismatches.push(`${path}: "${visible}" is named "${name}"`)
      }
    }
    expect(mismatches).toEqual([])
    await close()
  })

  it('after a sign-out on /admin, the next person lands on their dashboard, not on /admin', async () => {
    const { page, errors, close } = await openPage()
    await signInThroughUi(page, server.url, admin)
    await page.goto(`${server.url}/admin`)
    await page.getByTestId('organization-summary').waitFor()
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.waitForURL(`${server.url}/login`)
    expect(page.url()).not.toContain('redirect')

    await submitLoginForm(page, member)
    await page.waitForURL(`${server.url}/app`)
    expect(page.url()).toBe(`${server.url}/app`)
    expect(errors).toEqual([])
    await close()
  })

  it('shows an internationalized email in Unicode, and says precisely what is wrong with a non-ASCII local part', async () => {
    await createUser(database.db, {
      email: 'anna@xn--bcher-kva.example',
      name: 'Anna Bücher',
      passwordHash: await hashPassword(E2E_PASSWORD),
      role: 'member',
      organizationId: null,
      emailVerifiedAt: new Date(),
    })
    const { page, errors, close } = await openPage()
    // Typed in Unicode, stored in ASCII: the same account.
    await signInThroughUi(page, server.url, { email: 'anna@bücher.example', password: E2E_PASSWORD })
    await page.getByTestId('dashboard-greeting').waitFor()
    await expect.poll(() => page.getByTestId('viewer-email').textContent()).toBe('anna@bücher.example')
    expect(await page.getByRole('main').textContent()).toContain('anna@bücher.example')
    expect(await page.locator('body').textContent()).not.toContain('xn--')

    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.waitForURL(`${server.url}/login`)
    await page.goto(`${server.url}/signup`)
    await page.getByLabel('Name').fill('Änna')
    await page.getByLabel('Email').fill('änna@example.test')
    await page.getByLabel('Password', { exact: true }).fill(E2E_PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByText('Use only unaccented letters (a–z), digits and . _ \' + - before the @.').waitFor()
    expect(errors).toEqual([])
    await close()
  })

  it('a used reset link says so before any form', async () => {
    const user = await createE2eUser(database, { name: 'Rita Reset' })
    const token = await issueOneTimeToken(database.db, { userId: user.id, purpose: 'password_reset', email: user.email }, new Date())
    const { page, errors, close } = await openPage()
    await page.goto(`${server.url}/reset-password?token=${token}`)
    await page.getByLabel('New password').fill('a brand new lantern 42 harbour')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Password changed').first().waitFor()

    // Opened again: the first HTML already says it, and there is no form to type into.
    const firstHtml = await (await page.goto(`${server.url}/reset-password?token=${token}`, { waitUntil: 'commit' }))!.text()
    expect(firstHtml).toContain('This link was already used')
    await page.getByRole('heading', { name: 'This link was already used' }).waitFor()
    expect(await page.getByLabel('New password').count()).toBe(0)
    await page.getByRole('link', { name: 'Send me a new link' }).waitFor()
    await page.screenshot({ path: `${SCREENSHOT_DIR}/reset-link-used.png` })
    expect(errors).toEqual([])
    await close()
  })

  it('a reset link: only the page itself carries the token, no Referer names it, a reload keeps the form, and the reset completes', async () => {
    const user = await createE2eUser(database, { name: 'Tom Token' })
    const token = await issueOneTimeToken(database.db, { userId: user.id, purpose: 'password_reset', email: user.email }, new Date())
    const { page, errors, close } = await openPage()
    const leaks: string[] = []
    page.on('request', (request) => {
      const isThePage = request.isNavigationRequest() && new URL(request.url()).pathname === '/reset-password'
      if (!isThePage && request.url().includes(token)) leaks.push(`URL of ${request.method()} ${request.url()}`)
      if ((request.headers()['referer'] ?? '').includes(token)) leaks.push(`Referer of ${request.method()} ${request.url()}`)
    })
    await page.goto(`${server.url}/reset-password?token=${token}`)
    await waitForHydration(page)
    await page.getByLabel('New password').waitFor()
    // A reload (or coming back to the tab) still shows the form: the token stays in the address bar.
    await page.reload()
    await waitForHydration(page)
    await page.getByLabel('New password').fill('a brand new lantern 42 harbour')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Password changed').first().waitFor()
    expect(leaks).toEqual([])
    expect(errors).toEqual([])
    await close()
  })

  it('a reopened verification link says the email is verified, not "invalid or expired"', async () => {
    const user = await createE2eUser(database, { name: 'Vera Verify' })
    await database.db.execute(sql`UPDATE users SET email_verified_at = NULL WHERE id = ${user.id}`)
    const token = await issueOneTimeToken(database.db, { userId: user.id, purpose: 'email_verification', email: user.email }, new Date())
    const { page, errors, close } = await openPage()
    await page.goto(`${server.url}/verify-email?token=${token}`)
    await page.getByRole('heading', { name: 'Email verified' }).waitFor()

    const firstHtml = await (await page.goto(`${server.url}/verify-email?token=${token}`, { waitUntil: 'commit' }))!.text()
    expect(firstHtml).toContain('Your email is already verified')
    await page.getByRole('heading', { name: 'Your email is already verified' }).waitFor()
    expect(await page.getByText('invalid or expired', { exact: false }).count()).toBe(0)
    await page.screenshot({ path: `${SCREENSHOT_DIR}/verification-link-reopened.png` })
    expect(errors).toEqual([])
    await close()
  })
})
