/**
 * OIDC sign-in in a real browser against the production build and the real local provider
 * (`oidc-provider`): the app on `localhost`, the IdP on `127.0.0.1`, so the two are different
 * sites, as an app and its customers' IdP are. The binding cookie must survive the cross-site
 * return (SameSite=Lax on a top-level GET), and the page that was asked for before signing in is
 * where the user lands. The second case is the organization's MFA policy after SSO, with a code
 * from oathtool (independent of the server's TOTP code).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startLocalOidcProvider, type LocalOidcProvider } from '../../scripts/idp/oidc-provider'
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/server/auth/mfa'
import type { DatabaseHandle } from '../../src/server/db/client'
import { getFreePort, startAppServer, type RunningAppServer } from '../setup/app-server'
import { LOOPBACK_SSO_HOSTS, seedOidcTenant, shareAppSecretWithServer } from '../support/oidc-tenant'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eOrganization, createE2eUser, submitLoginEmail } from './fixtures'

const CLIENT_SECRET = 'e2e-local-idp-client-secret'
const TOTP_STEP_SECONDS = 30

/** The code for a time step, from oathtool. */
function oathtoolCode(base32Key: string, step: number): string {
  return execFileSync('oathtool', ['--totp', '-b', base32Key, '--now', `@${step * TOTP_STEP_SECONDS}`], { encoding: 'utf8' }).trim()
}

function currentTotpStep(): number {
  return Math.floor(Date.now() / 1000 / TOTP_STEP_SECONDS)
}

/** Fills the local IdP's own sign-in form (a page on 127.0.0.1). */
async function signInAtIdpPage(page: Page, idp: LocalOidcProvider, credentials: { email: string; password: string }): Promise<void> {
  await page.waitForURL((url) => url.origin === idp.issuer && url.pathname.startsWith('/interaction/'))
  await page.getByRole('heading', { name: 'Local identity provider' }).waitFor()
  await page.getByLabel('Email').fill(credentials.email)
  await page.getByLabel('Password').fill(credentials.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

describe('OIDC sign-in in a real browser (app on localhost, IdP on 127.0.0.1)', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle
  let idp: LocalOidcProvider
  const suffix = randomBytes(3).toString('hex')
  const plainDomain = `initech-${suffix}.test`
  const mfaDomain = `umbrella-${suffix}.test`
  const unreachableDomain = `hooli-${suffix}.test`
  const patAtIdp = { email: `pat@${plainDomain}`, password: 'pat-at-the-local-idp' }
  const tomAtIdp = { email: `tom@${mfaDomain}`, password: 'tom-at-the-local-idp' }
  let tomTotpKey = ''

  beforeAll(async () => {
    const appSecret = shareAppSecretWithServer()
    // The issuer (with its port) is saved in each connection, so the IdP's port is chosen first.
    const idpPort = await getFreePort()
    const issuer = `http://127.0.0.1:${idpPort}`
    ;[server, browser] = await Promise.all([
      startAppServer({ runId: inject('runId'), name: 'e2e_sso', publicHost: 'localhost', env: { APP_SECRET: appSecret, SSO_ALLOWED_PRIVATE_HOSTS: LOOPBACK_SSO_HOSTS } }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)

    const initech = await createE2eOrganization(database, 'Initech')
    const umbrella = await createE2eOrganization(database, 'Umbrella')
    await database.db.execute(sql`UPDATE organizations SET mfa_policy = 'required' WHERE id = ${umbrella.id}`)
    const plain = await seedOidcTenant(database.db, { organizationId: initech.id, issuer, clientId: `initech-${suffix}`, clientSecret: CLIENT_SECRET, domain: plainDomain })
    const withMfa = await seedOidcTenant(database.db, { organizationId: umbrella.id, issuer, clientId: `umbrella-${suffix}`, clientSecret: CLIENT_SECRET, domain: mfaDomain })

    // Hooli's IdP is down: its issuer is a loopback port nobody listens on.
    const hooli = await createE2eOrganization(database, 'Hooli')
    const deadIssuer = `http://127.0.0.1:${await getFreePort()}`
    await seedOidcTenant(database.db, { organizationId: hooli.id, issuer: deadIssuer, clientId: `hooli-${suffix}`, clientSecret: CLIENT_SECRET, domain: unreachableDomain })

    // Tom already has an account with a TOTP factor; his first SSO sign-in links to it.
    const tom = await createE2eUser(database, { name: 'Tom Totp', organizationId: umbrella.id })
    await database.db.execute(sql`UPDATE users SET email = ${tomAtIdp.email} WHERE id = ${tom.id}`)
    const enrollment = await beginTotpEnrollment(database.db, { id: tom.id, email: tomAtIdp.email })
    const confirmed = await confirmTotpEnrollment(database.db, tom.id, oathtoolCode(enrollment.secret, currentTotpStep()))
    if (!confirmed.ok) throw new Error(`TOTP enrollment failed: ${confirmed.reason}`)
    tomTotpKey = enrollment.secret

    const redirectUri = (connectionId: string) => `${server.url}/api/auth/oidc/${connectionId}/callback`
    idp = await startLocalOidcProvider({
      port: idpPort,
      clients: [
        { clientId: `initech-${suffix}`, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri(plain.id)] },
        { clientId: `umbrella-${suffix}`, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri(withMfa.id)] },
      ],
      users: [
        { ...patAtIdp, name: 'Pat Plain', sub: `pat-${suffix}` },
        { ...tomAtIdp, name: 'Tom Totp', sub: `tom-${suffix}` },
      ],
    })
  })
  afterAll(async () => {
    await idp?.stop()
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it('email first → local IdP → back, signed in, on the page that was asked for', async () => {
    expect(new URL(server.url).hostname).toBe('localhost')
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/settings/security`)
    await page.waitForURL(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)
    // The IdP's authorization request is held until the page has shown where it is going. While
    // that navigation is pending Playwright cannot query the page, so the page reports by itself.
    let releaseIdp!: () => void
    const isIdpHeld = new Promise<void>((release) => (releaseIdp = release))
    await page.route(
      (url) => url.origin === idp.issuer && url.pathname === '/auth',
      async (route) => {
        await isIdpHeld
        await route.continue()
      },
    )
    const noticeShown = page.waitForEvent('console', (message) => message.text() === 'e2e: SSO notice shown, no password field')
    await page.evaluate((notice) => {
      const observer = new MutationObserver(() => {
        const statuses = [...document.querySelectorAll('[role="status"]')].map((element) => element.textContent)
        if (!statuses.includes(notice) || document.querySelector('input[type="password"]')) return
        console.info('e2e: SSO notice shown, no password field')
        observer.disconnect()
      })
      observer.observe(document.body, { subtree: true, childList: true, characterData: true })
    }, 'Taking you to your organization’s sign-in…')
    await submitLoginEmail(page, patAtIdp.email)
    // No password step for an SSO domain: the page says where it is going, then leaves.
    await noticeShown
    releaseIdp()
    await signInAtIdpPage(page, idp, patAtIdp)
    await page.waitForURL(`${server.url}/settings/security`)
    await expect.poll(() => page.getByTestId('viewer-name').textContent()).toBe('Pat Plain')
    await page.screenshot({ path: '/tmp/gatehouse-sso-landed.png', fullPage: true })

    const [rows] = await database.pool.query(
      'SELECT s.auth_method AS method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?',
      [patAtIdp.email],
    )
    expect(rows).toEqual([{ method: 'oidc' }])
    expect(idp.counters.discovery).toBe(1)
    expect(errors).toEqual([])
    await context.close()
  })

  it('MFA after SSO when the organization requires it: the IdP, then a code from oathtool', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/login`)
    await submitLoginEmail(page, tomAtIdp.email)
    await signInAtIdpPage(page, idp, tomAtIdp)
    await page.waitForURL(`${server.url}/login/mfa?redirect=%2Fapp`)
    // The step after the enrollment's (already spent) is accepted now (±1 step).
    await page.getByLabel('Authentication code').fill(oathtoolCode(tomTotpKey, currentTotpStep() + 1))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForURL(`${server.url}/app`)
    await expect.poll(() => page.getByTestId('viewer-name').textContent()).toBe('Tom Totp')
    expect(errors).toEqual([])
    await context.close()
  })

  it('says so inline when the organization’s IdP cannot be reached, and keeps the email step', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    await page.goto(`${server.url}/login`)
    await submitLoginEmail(page, `someone@${unreachableDomain}`)
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Your organization’s sign-in service cannot be reached right now. Try again in a moment.')
    expect(new URL(page.url()).pathname).toBe('/login')
    expect(await page.getByLabel('Email').evaluate((field) => field === document.activeElement)).toBe(true)
    expect(await page.getByLabel('Password', { exact: true }).count()).toBe(0)
    await context.close()
  })

  // Last in this file: it spends this client address's `ssoStartPerIp` budget on the server.
  it('says so inline when email-first sign-ins from this address are rate-limited (429)', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    await page.goto(`${server.url}/login`)
    let status = 0
    for (let attempt = 0; attempt < 60 && status !== 429; attempt++) {
      const response = await page.request.post(`${server.url}/api/trpc/auth.beginSignIn`, {
        headers: { origin: server.url, 'content-type': 'application/json' },
        data: { email: `someone@${plainDomain}` },
      })
      status = response.status()
    }
    expect(status).toBe(429)
    await submitLoginEmail(page, 'someone@example.test')
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^Too many attempts/)
    expect(await page.getByLabel('Password', { exact: true }).count()).toBe(0)
    await context.close()
  })
})
