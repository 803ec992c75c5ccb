/**
 * SAML sign-in in a real browser against the production build and the local SAML IdP (real
 * rsa-sha256 signatures): the app on `localhost`, the IdP on `127.0.0.1`, so the IdP page's
 * auto-submitted form really is a cross-site POST and Chromium sends no SameSite=Lax cookie with
 * it. The two-step ACS must still land the user, signed in, on the page that was asked for: step 1
 * validates without cookies, step 2 (a same-origin GET) checks the browser binding (ADR 015). The
 * second case is the organization's MFA policy after SAML, with a code from oathtool. The third is
 * the console: a SAML-signed-in admin imports a connection from the IdP's metadata URL, copies the
 * SP values, runs the doctor, and rotates the IdP certificate. The fourth is step-up: a stale
 * re-authentication sends the admin back to the IdP with ForceAuthn (in a popup) before a role change;
 * the fifth does the same with popups blocked, as a full-page round trip through the cross-site ACS.
 * The sixth is the owner's IdP-initiated switch, behind a warning about login CSRF.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/server/auth/mfa'
import type { DatabaseHandle } from '../../src/server/db/client'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { LOOPBACK_SSO_HOSTS, shareAppSecretWithServer } from '../support/oidc-tenant'
import { createSamlTestKeys } from '../support/saml-responses'
import { startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eUser, signInThroughUi, submitLoginEmail, waitForHydration } from './fixtures'

const TOTP_STEP_SECONDS = 30

function oathtoolCode(base32Key: string, step: number): string {
  return execFileSync('oathtool', ['--totp', '-b', base32Key, '--now', `@${step * TOTP_STEP_SECONDS}`], { encoding: 'utf8' }).trim()
}

function currentTotpStep(): number {
  return Math.floor(Date.now() / 1000 / TOTP_STEP_SECONDS)
}

/** Fills the local SAML IdP's own form (a page on 127.0.0.1); its answer page auto-submits the POST to the ACS. */
async function signInAtSamlIdpPage(page: Page, testbed: SamlTestbed, credentials: { email: string; password: string }): Promise<void> {
  const idpOrigin = new URL(testbed.idp.ssoUrl).origin
  await page.waitForURL((url) => url.origin === idpOrigin && url.pathname === '/sso')
  await page.getByRole('heading', { name: 'Local SAML IdP' }).waitFor()
  await page.getByLabel('Email').fill(credentials.email)
  await page.getByLabel('Password').fill(credentials.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

describe('SAML sign-in in a real browser (app on localhost, IdP on 127.0.0.1)', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle
  let plain: SamlTestbed
  let withMfa: SamlTestbed
  const suffix = randomBytes(3).toString('hex')
  const rosaAtIdp = { email: `rosa@globex-${suffix}.test`, password: 'rosa-at-the-local-saml-idp', displayName: 'Rosa Saml', groups: ['globex-admins'] }
  const tomAtIdp = { email: `tom@soylent-${suffix}.test`, password: 'tom-at-the-local-saml-idp', displayName: 'Tom Totp' }
  let tomTotpKey = ''

  beforeAll(async () => {
    const appSecret = shareAppSecretWithServer()
    ;[server, browser] = await Promise.all([
      startAppServer({ runId: inject('runId'), name: 'e2e_saml', publicHost: 'localhost', env: { APP_SECRET: appSecret, SSO_ALLOWED_PRIVATE_HOSTS: LOOPBACK_SSO_HOSTS } }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)
    plain = await startSamlTestbed([rosaAtIdp], { domain: `globex-${suffix}.test`, db: database.db, connection: { groupRoleMap: { 'globex-admins': 'admin' } } })
    withMfa = await startSamlTestbed([tomAtIdp], { domain: `soylent-${suffix}.test`, mfaPolicy: 'required', db: database.db })

    // Tom already has an account with a TOTP factor; his first SAML sign-in links to it (verified domain, same organization).
    const tom = await createE2eUser(database, { name: 'Tom Totp', organizationId: withMfa.organization.id })
    await database.db.execute(sql`UPDATE users SET email = ${tomAtIdp.email} WHERE id = ${tom.id}`)
    const enrollment = await beginTotpEnrollment(database.db, { id: tom.id, email: tomAtIdp.email })
    const confirmed = await confirmTotpEnrollment(database.db, tom.id, oathtoolCode(enrollment.secret, currentTotpStep()))
    if (!confirmed.ok) throw new Error(`TOTP enrollment failed: ${confirmed.reason}`)
    tomTotpKey = enrollment.secret
  })

  afterAll(async () => {
    await Promise.all([plain?.stop(), withMfa?.stop()])
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it('email first → local SAML IdP → cross-site POST to the ACS → signed in, on the page that was asked for', async () => {
    expect(new URL(server.url).hostname).toBe('localhost')
    expect(new URL(plain.idp.ssoUrl).hostname).toBe('127.0.0.1')
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    // What Chromium really sends with the IdP page's POST: cross-site, and without the Lax cookies.
    const acsRequests: Array<{ origin: string | undefined; cookie: string | undefined }> = []
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/acs')) {
        void request.allHeaders().then((headers) => acsRequests.push({ origin: headers.origin, cookie: headers.cookie }))
      }
    })

    await page.goto(`${server.url}/settings/security`)
    await page.waitForURL(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)
    await submitLoginEmail(page, rosaAtIdp.email)
    await signInAtSamlIdpPage(page, plain, rosaAtIdp)
    await page.waitForURL(`${server.url}/settings/security`)
    await expect.poll(() => page.getByTestId('viewer-name').textContent()).toBe('Rosa Saml')

    // From the IdP's site, and without the binding cookie this browser holds for localhost (SameSite=Lax).
    expect(acsRequests).toEqual([{ origin: new URL(plain.idp.ssoUrl).origin, cookie: undefined }])
    expect((await context.cookies(server.url)).some((cookie) => cookie.sameSite === 'Lax' && cookie.httpOnly)).toBe(true)
    const [rows] = await database.pool.query('SELECT s.auth_method AS method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?', [rosaAtIdp.email])
    expect(rows).toEqual([{ method: 'saml' }])
    expect(plain.idp.requests).toHaveLength(1)
    expect(errors).toEqual([])
    await context.close()
  })

  it('MFA after SAML when the organization requires it: the IdP, then a code from oathtool', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/login`)
    await submitLoginEmail(page, tomAtIdp.email)
    await signInAtSamlIdpPage(page, withMfa, tomAtIdp)
    await page.waitForURL(`${server.url}/login/mfa?redirect=%2Fapp`)
    // The step after the enrollment's (already spent) is accepted now (±1 step).
    await page.getByLabel('Authentication code').fill(oathtoolCode(tomTotpKey, currentTotpStep() + 1))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForURL(`${server.url}/app`)
    await expect.poll(() => page.getByTestId('viewer-name').textContent()).toBe('Tom Totp')
    const [rows] = await database.pool.query('SELECT s.auth_method AS method, s.mfa_method AS mfa FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?', [tomAtIdp.email])
    expect(rows).toEqual([{ method: 'saml', mfa: 'totp' }])
    expect(errors).toEqual([])
    await context.close()
  })

  it('the console: a SAML connection from the metadata URL, its SP values, the doctor, and a certificate rotation', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await page.goto(`${server.url}/api/auth/sso/start?connection=${plain.connection.id}&redirect=${encodeURIComponent('/admin/sso')}`)
    await signInAtSamlIdpPage(page, plain, rosaAtIdp)
    await page.waitForURL(`${server.url}/admin/sso`)
    await waitForHydration(page)

    await page.getByRole('button', { name: 'New SAML connection' }).click()
    const form = page.getByRole('form', { name: 'New SAML connection' })
    await form.getByLabel('Name', { exact: true }).fill('Globex Staging')
    await form.getByLabel('Metadata URL', { exact: true }).fill(plain.idp.metadataUrl)
    await form.getByRole('button', { name: 'Create connection' }).click()
    await page.waitForURL(new RegExp(`${server.url}/admin/sso/[a-z2-7]{26}$`))
    const connectionId = new URL(page.url()).pathname.split('/').at(-1)!
    await expect.poll(() => page.getByRole('textbox', { name: 'ACS URL (HTTP-POST)' }).inputValue()).toBe(`${server.url}/api/auth/saml/${connectionId}/acs`)
    expect(await page.getByRole('textbox', { name: 'SP entity ID (audience)' }).inputValue()).toBe(`${server.url}/api/auth/saml/${connectionId}/metadata`)
    await expect.poll(() => page.getByTestId('saml-certificate').allTextContents()).toEqual([expect.stringContaining('CN=Gatehouse local SAML IdP')])
    // The IdP-initiated switch is the owner's (Rosa is an admin): shown as off, no button.
    expect(await page.getByTestId('saml-idp-initiated').textContent()).toContain('Off')
    expect(await page.getByRole('button', { name: /IdP-initiated login/ }).count()).toBe(0)

    // The doctor: a real SAML login at the IdP through the real ACS, which records only its result.
    await page.getByRole('button', { name: 'Test sign-in' }).click()
    await signInAtSamlIdpPage(page, plain, rosaAtIdp)
    await page.waitForURL(new RegExp(`${server.url}/admin/sso/${connectionId}`))
    const doctor = page.getByTestId('doctor-result')
    await doctor.getByText('Passed').waitFor()
    for (const check of ['Signature (Response and Assertion)', 'Destination (this ACS)', 'Recipient (this ACS)', 'InResponseTo (this request)', 'Not seen before (replay)']) await doctor.getByText(check).waitFor()
    // What the IdP sent besides the claims: the asserted NameID format and the attribute names (no values).
    await doctor.getByText('NameID format sent').waitFor()
    const doctorClaims = await doctor.getByTestId('doctor-claims').textContent()
    expect(doctorClaims).toContain('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent')
    // Which listed certificate verified the signature (what a rotation needs to know).
    expect(doctorClaims).toMatch(/Certificate that verified the signature\s*CN=Gatehouse local SAML IdP \(SHA-256 [0-9A-F:]{95}\)/)
    await page.screenshot({ path: '/tmp/gatehouse-saml-connection.png', fullPage: true })

    // Rotation: the next certificate is added (both accepted), then the old one removed.
    const next = createSamlTestKeys('e2e-next')
    await page.getByLabel('Add a certificate (PEM)').fill(next.certificatePem)
    await page.getByRole('button', { name: 'Add certificate' }).click()
    await expect.poll(() => page.getByTestId('saml-certificate').count()).toBe(2)
    await page.getByTestId('saml-certificate').filter({ hasText: 'CN=Gatehouse local SAML IdP' }).getByRole('button', { name: /^Remove certificate/ }).click()
    await expect.poll(() => page.getByTestId('saml-certificate').allTextContents()).toEqual([expect.stringContaining('CN=test e2e-next')])
    expect(errors).toEqual([])
    await context.close()
  })

  it('step-up through the IdP: ForceAuthn in a popup, a fresh AuthnInstant, and the sensitive change is retried', async () => {
    const member = await createE2eUser(database, { name: 'Milo Member', organizationId: plain.organization.id })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    const latestReauthentication = async () => {
      const [rows] = await database.pool.query('SELECT MAX(s.reauthenticated_at) AS at FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?', [rosaAtIdp.email])
      return (rows as Array<{ at: Date }>)[0]!.at.getTime()
    }
    await page.goto(`${server.url}/api/auth/sso/start?connection=${plain.connection.id}&redirect=${encodeURIComponent('/admin')}`)
    await signInAtSamlIdpPage(page, plain, rosaAtIdp)
    await page.waitForURL(`${server.url}/admin`)
    await waitForHydration(page)
    // An old re-authentication: the role change below is sensitive and needs a fresh one.
    await database.pool.query('UPDATE sessions s JOIN users u ON u.id = s.user_id SET s.reauthenticated_at = s.reauthenticated_at - INTERVAL 1 HOUR WHERE u.email = ?', [rosaAtIdp.email])
    const requestsBefore = plain.idp.requests.length
    const staleReauthenticatedAt = await latestReauthentication()

    await page.getByLabel(`Role of ${member.name}`).selectOption('admin')
    await page.getByRole('dialog', { name: `Make ${member.name} admin?` }).getByRole('button', { name: 'Change role' }).click()
    const reauth = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await reauth.waitFor()
    const popupOpened = page.waitForEvent('popup')
    await reauth.getByRole('button', { name: `Continue with ${plain.connection.displayName}` }).click()
    const popup = await popupOpened
    await signInAtSamlIdpPage(popup, plain, rosaAtIdp)
    await page.getByText(`${member.name} is now admin.`).waitFor()
    await expect.poll(() => popup.isClosed()).toBe(true)

    // The IdP was asked to authenticate again (ForceAuthn), and the same session was stamped.
    expect(plain.idp.requests.slice(requestsBefore).map((request) => request.isForceAuthn)).toEqual([true])
    expect(await latestReauthentication()).toBeGreaterThan(staleReauthenticatedAt + 30 * 60 * 1000)
    const [roleRows] = await database.pool.query('SELECT role FROM users WHERE id = ?', [member.id])
    expect(roleRows).toEqual([{ role: 'admin' }])
    expect(errors).toEqual([])
    await context.close()
  })
  it('with popups blocked, the SAML step-up is a full-page round trip through the cross-site ACS that comes back to the same page', async () => {
    const member = await createE2eUser(database, { name: 'Nell Member', organizationId: plain.organization.id })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    const rosaSessions = async () => {
      const [rows] = await database.pool.query('SELECT s.id, s.created_at AS createdAt, s.reauthenticated_at AS at FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ? ORDER BY s.created_at DESC', [rosaAtIdp.email])
      return rows as Array<{ id: string; createdAt: Date; at: Date }>
    }
    await page.goto(`${server.url}/api/auth/sso/start?connection=${plain.connection.id}&redirect=${encodeURIComponent('/admin')}`)
    await signInAtSamlIdpPage(page, plain, rosaAtIdp)
    await page.waitForURL(`${server.url}/admin`)
    await waitForHydration(page)
    await database.pool.query('UPDATE sessions s JOIN users u ON u.id = s.user_id SET s.reauthenticated_at = s.reauthenticated_at - INTERVAL 1 HOUR WHERE u.email = ?', [rosaAtIdp.email])
    const [signedIn] = await rosaSessions()
    const sessionCount = (await rosaSessions()).length
    const requestsBefore = plain.idp.requests.length
    // What a popup blocker does: window.open answers null, so the dialog leaves the page instead.
    await page.evaluate(() => {
      window.open = () => null
    })

    await page.getByLabel(`Role of ${member.name}`).selectOption('admin')
    await page.getByRole('dialog', { name: `Make ${member.name} admin?` }).getByRole('button', { name: 'Change role' }).click()
    await page.getByRole('dialog', { name: 'Confirm it’s you' }).getByRole('button', { name: `Continue with ${plain.connection.displayName}` }).click()
    await signInAtSamlIdpPage(page, plain, rosaAtIdp)
    await page.waitForURL(`${server.url}/admin`)
    await waitForHydration(page)

    // ForceAuthn was asked for; the session that asked was stamped and rotated (its old id is gone,
    // its creation time kept), and no second session was made.
    expect(plain.idp.requests.slice(requestsBefore).map((request) => request.isForceAuthn)).toEqual([true])
    const after = await rosaSessions()
    expect(after).toHaveLength(sessionCount)
    expect(after.map((session) => session.id)).not.toContain(signedIn!.id)
    const stepped = after.find((session) => session.createdAt.getTime() === signedIn!.createdAt.getTime())
    expect(stepped!.at.getTime()).toBeGreaterThan(signedIn!.at.getTime() + 30 * 60 * 1000)
    // Back on the page and re-authenticated: the same change now goes through without asking.
    await page.getByLabel(`Role of ${member.name}`).selectOption('admin')
    await page.getByRole('dialog', { name: `Make ${member.name} admin?` }).getByRole('button', { name: 'Change role' }).click()
    await page.getByText(`${member.name} is now admin.`).waitFor()
    expect(await page.getByRole('dialog', { name: 'Confirm it’s you' }).count()).toBe(0)
    const [roleRows] = await database.pool.query('SELECT role FROM users WHERE id = ?', [member.id])
    expect(roleRows).toEqual([{ role: 'admin' }])
    expect(errors).toEqual([])
    await context.close()
  })

  it('the owner turns IdP-initiated login on after a warning about login CSRF, and off again', async () => {
    const owner = await createE2eUser(database, { name: 'Otto Owner', role: 'owner', organizationId: plain.organization.id, emailPrefix: 'saml-owner' })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await signInThroughUi(page, server.url, owner)
    await page.goto(`${server.url}/admin/sso/${plain.connection.id}`)
    await waitForHydration(page)
    const isAllowedInDatabase = async () => {
      const [rows] = await database.pool.query('SELECT saml_is_idp_initiated_allowed AS isAllowed FROM sso_connections WHERE id = ?', [plain.connection.id])
      return Boolean((rows as Array<{ isAllowed: number }>)[0]!.isAllowed)
    }

    await page.getByRole('button', { name: 'Allow IdP-initiated login…' }).click()
    const confirm = page.getByRole('dialog', { name: 'Allow IdP-initiated login?' })
    await confirm.getByText('login CSRF', { exact: false }).waitFor()
    await confirm.getByRole('button', { name: 'Allow IdP-initiated login' }).click()
    await expect.poll(() => page.getByTestId('saml-idp-initiated').textContent()).toContain('On')
    expect(await isAllowedInDatabase()).toBe(true)

    await page.getByRole('button', { name: 'Turn off IdP-initiated login' }).click()
    await expect.poll(() => page.getByTestId('saml-idp-initiated').textContent()).toContain('Off')
    expect(await isAllowedInDatabase()).toBe(false)
    expect(errors).toEqual([])
    await context.close()
  })
})
