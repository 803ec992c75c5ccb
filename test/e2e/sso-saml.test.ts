/**
 * SAML sign-in in a real browser against the production build and the local SAML IdP (real
 * rsa-sha256 signatures): the app on `localhost`, the IdP on `127.0.0.1`, so the IdP page's
 * auto-submitted form really is a cross-site POST and Chromium sends no SameSite=Lax cookie with
 * it. The two-step ACS must still land the user, signed in, on the page that was asked for: step 1
 * validates without cookies, step 2 (a same-origin GET) checks the browser binding (ADR 015). The
 * second case is the organization's MFA policy after SAML, with a code from oathtool.
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
import { startSamlTestbed, type SamlTestbed } from '../support/saml-testbed'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eUser, submitLoginEmail } from './fixtures'

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
  const rosaAtIdp = { email: `rosa@globex-${suffix}.test`, password: 'rosa-at-the-local-saml-idp', displayName: 'Rosa Saml', groups: ['globex-staff'] }
  const tomAtIdp = { email: `tom@soylent-${suffix}.test`, password: 'tom-at-the-local-saml-idp', displayName: 'Tom Totp' }
  let tomTotpKey = ''

  beforeAll(async () => {
    const appSecret = shareAppSecretWithServer()
    ;[server, browser] = await Promise.all([
      startAppServer({ runId: inject('runId'), name: 'e2e_saml', publicHost: 'localhost', env: { APP_SECRET: appSecret, SSO_ALLOWED_PRIVATE_HOSTS: LOOPBACK_SSO_HOSTS } }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)
    plain = await startSamlTestbed([rosaAtIdp], { domain: `globex-${suffix}.test`, db: database.db })
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
})
