/**
 * SPEC §4 in a real browser: a session that ends elsewhere (revoked from another browser, signed
 * out in another tab) takes the UI to the login page, with a redirect back, without a reload.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import appConfig from '../../app.config'
import type { DatabaseHandle } from '../../src/server/db/client'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, createE2eUser, signInThroughUi, simulateTabRefocus, submitLoginForm } from './fixtures'

const REVALIDATE_MS = appConfig.client.viewerRevalidateSeconds * 1000

describe('session changes reach the UI', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([
      startAppServer({ runId: inject('runId'), name: 'e2e_session_sync' }),
      launchBrowser(),
    ])
    database = connectToAppDatabase(server.databaseUrl)
  })
  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it(
    'a session revoked from another browser lands on the login page within the revalidation interval',
    async () => {
      const user = await createE2eUser(database, { name: 'Rita Revoked' })
      const victimContext = await newIsolatedContext(browser)
      const victim = await victimContext.newPage()
      const errors = collectPageErrors(victim)
      await signInThroughUi(victim, server.url, user)

      // A second browser (its own cookies) signs in as the same user and signs out everything else.
      const otherContext = await newIsolatedContext(browser)
      const other = await otherContext.newPage()
      await signInThroughUi(other, server.url, user)
      await other.goto(`${server.url}/settings/security`)
      await expect.poll(() => other.getByTestId('session-row').count()).toBe(2)
      await other.getByRole('button', { name: 'Sign out all other sessions' }).click()
      await other.getByText('Signed out 1 other session.').waitFor()
      const revokedAt = Date.now()
      await expect.poll(() => other.getByTestId('session-row').count()).toBe(1)

      // Nothing touches the victim tab: only the periodic revalidation can notice.
      await victim.waitForURL(`${server.url}/login?redirect=%2Fapp`, { timeout: REVALIDATE_MS + 5_000 })
      const noticedAfterMs = Date.now() - revokedAt
      console.info(`[e2e] revoked session noticed after ${noticedAfterMs} ms (interval ${REVALIDATE_MS} ms)`)
      expect(noticedAfterMs).toBeLessThanOrEqual(REVALIDATE_MS + 2_000)
      await victim.getByText('Your session has ended. Please sign in again.').waitFor()
      expect(await victim.getByTestId('viewer-name').count()).toBe(0)
      expect(errors).toEqual([])

      // The other browser is untouched.
      await other.goto(`${server.url}/app`)
      expect(other.url()).toBe(`${server.url}/app`)
      await victimContext.close()
      await otherContext.close()
    },
    REVALIDATE_MS + 30_000,
  )

  it('a revoked session is noticed as soon as the user comes back to the tab', async () => {
    const user = await createE2eUser(database, { name: 'Felix Focus' })
    const victimContext = await newIsolatedContext(browser)
    const victim = await victimContext.newPage()
    const errors = collectPageErrors(victim)
    await signInThroughUi(victim, server.url, user)
    await victim.goto(`${server.url}/settings/security`)

    const otherContext = await newIsolatedContext(browser)
    const other = await otherContext.newPage()
    await signInThroughUi(other, server.url, user)
    await other.goto(`${server.url}/settings/security`)
    await expect.poll(() => other.getByTestId('session-row').count()).toBe(2)
    // Revoke just the victim's session, through its own button.
    await other.locator('[data-testid="session-row"]:not([data-current])').getByRole('button', { name: /^Sign out Chrome/ }).click()
    await expect.poll(() => other.getByTestId('session-row').count()).toBe(1)

    const refocusedAt = Date.now()
    await simulateTabRefocus(victim)
    await victim.waitForURL(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`, { timeout: 5_000 })
    console.info(`[e2e] revoked session noticed ${Date.now() - refocusedAt} ms after refocus`)
    expect(errors).toEqual([])
    await victimContext.close()
    await otherContext.close()
  })

  it('signing out in one tab signs out the other tab of the same browser at once', async () => {
    const user = await createE2eUser(database, { name: 'Tabitha Tabs' })
    const context = await newIsolatedContext(browser)
    const first = await context.newPage()
    const second = await context.newPage()
    const errors = [...collectPageErrors(first), ...collectPageErrors(second)]
    await signInThroughUi(first, server.url, user)
    await second.goto(`${server.url}/settings/security`)
    await second.getByTestId('viewer-name').waitFor()

    const signedOutAt = Date.now()
    await first.getByRole('button', { name: 'Sign out' }).first().click()
    // A deliberate sign-out keeps no way back (the next person must not land on these pages).
    await first.waitForURL(`${server.url}/login`)
    // BroadcastChannel, not the 30 s interval: the other tab follows within a moment.
    await second.waitForURL(`${server.url}/login`, { timeout: 5_000 })
    console.info(`[e2e] other tab signed out after ${Date.now() - signedOutAt} ms`)
    await second.getByText('You signed out in another tab.').waitFor()
    expect(await second.getByTestId('viewer-name').count()).toBe(0)

    // And signing in again in one tab takes the other (sitting on the login page) to the dashboard too.
    await submitLoginForm(first, user)
    await first.waitForURL(`${server.url}/app`)
    await second.waitForURL(`${server.url}/app`, { timeout: 5_000 })
    await second.getByTestId('viewer-name').waitFor()
    expect(errors).toEqual([])
    await context.close()
  })
})
