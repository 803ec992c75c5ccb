/**
 * Sign-up, sign-in, sign-out and the login redirect in a real browser against the production build.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eUser, E2E_PASSWORD, signInThroughUi, submitLoginForm, uniqueEmail, type E2eUser } from './fixtures'
import type { DatabaseHandle } from '../../src/server/db/client'

describe('signing up, in and out in a real browser', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle
  let user: E2eUser

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([
      startAppServer({ runId: inject('runId'), name: 'e2e_auth_flows' }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)
    user = await createE2eUser(database, { name: 'Frida Flow' })
  })
  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it('signs up and lands on the dashboard; signs out, signs in and is back on the dashboard', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/signup`)
    await page.getByLabel('Name').fill('Sana Signup')
    const email = uniqueEmail('signup')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password', { exact: true }).fill(E2E_PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()

    await page.waitForURL(`${server.url}/app`)
    await expect.poll(() => page.getByTestId('dashboard-greeting').textContent()).toBe('Welcome, Sana Signup')
    expect(await page.getByTestId('viewer-name').textContent()).toBe('Sana Signup')
    await page.screenshot({ path: '/tmp/gatehouse-dashboard.png', fullPage: true })

    await page.getByRole('button', { name: 'Sign out' }).click()
    // A deliberate sign-out lands on the plain login page: no way back to the previous person's page.
    await page.waitForURL(`${server.url}/login`)
    await expect.poll(() => page.getByTestId('viewer-name').count()).toBe(0)

    await submitLoginForm(page, { email, password: E2E_PASSWORD })
    await page.waitForURL(`${server.url}/app`)
    await expect.poll(() => page.getByTestId('dashboard-greeting').textContent()).toBe('Welcome, Sana Signup')
    expect(errors).toEqual([])
    await context.close()
  })

  it('shows a wrong password inline and stays on the login page', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await page.goto(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)
    await submitLoginForm(page, { email: user.email, password: 'not the password at all' })
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Email or password is incorrect.')
    // A failed sign-in (401 INVALID_CREDENTIALS) is not a lost session: no navigation.
    expect(page.url()).toBe(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)
    await page.screenshot({ path: '/tmp/gatehouse-login-error.png', fullPage: true })

    await page.getByLabel('Password', { exact: true }).fill(user.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${server.url}/settings/security`)
    expect(errors).toEqual([])
    await context.close()
  })

  it('renders the signed-in user in the first HTML (no signed-out flash)', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    await signInThroughUi(page, server.url, user)

    for (const path of ['/app', '/', '/settings/security']) {
      const response = await page.goto(`${server.url}${path}`, { waitUntil: 'commit' })
      const firstHtml = await response!.text()
      expect(firstHtml, path).toContain(`data-testid="viewer-name">${user.name}</span>`)
      expect(firstHtml, path).not.toContain('>Sign in</a>')
    }
    const dashboard = await (await page.goto(`${server.url}/app`, { waitUntil: 'commit' }))!.text()
    expect(dashboard).toContain(`Welcome, <!-- -->${user.name}`)
    await context.close()
  })

  it('sends /app without a session to /login?redirect=%2Fapp (server-side redirect)', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const response = await page.goto(`${server.url}/app`)
    expect(page.url()).toBe(`${server.url}/login?redirect=%2Fapp`)
    const redirect = response!.request().redirectedFrom()
    expect(redirect?.url()).toBe(`${server.url}/app`)
    expect((await redirect!.response())?.status()).toBe(307)
    await context.close()
  })

  it('refuses a crafted redirect to another origin: //evil.example lands on / after sign-in', async () => {
    const context = await newIsolatedContext(browser)
    const offsiteRequests: string[] = []
    context.on('request', (request) => {
      if (!request.url().startsWith(server.url)) offsiteRequests.push(request.url())
    })
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await page.goto(`${server.url}/login?redirect=//evil.example`)
    await submitLoginForm(page, user)
    await page.waitForURL(`${server.url}/`)
    await page.getByTestId('app-name').waitFor()
    expect(offsiteRequests).toEqual([])

    // The same for the encoded and backslash variants, now that we are signed in (the login
    // page forwards a signed-in viewer straight to the sanitised target).
    for (const crafted of ['%2F%2Fevil.example', '/%5Cevil.example', 'https://evil.example/app', 'javascript:alert(1)']) {
      await page.goto(`${server.url}/login?redirect=${encodeURIComponent(crafted)}`)
      await page.waitForURL(`${server.url}/`)
    }
    expect(offsiteRequests).toEqual([])
    expect(errors).toEqual([])
    await context.close()
  })
})
