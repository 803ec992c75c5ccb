import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'

describe('home page in a real browser', () => {
  let server: RunningAppServer
  let browser: Browser

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startAppServer({ runId: inject('runId'), name: 'e2e_home' }), launchBrowser()])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('is server-rendered, hydrates, and responds to a click', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text())
    })

    // The first HTML already holds the data (no client fetch needed to show it).
    const response = await page.goto(server.url, { waitUntil: 'commit' })
    const firstHtml = await response!.text()
    expect(firstHtml).toContain('data-testid="app-name">Gatehouse</h1>')

    await page.waitForLoadState('networkidle')
    await expect.poll(() => page.getByTestId('organization-count').textContent()).toBe('0 organizations')

    // Clicking works only once React has hydrated the server HTML.
    const toggle = page.locator('button[aria-controls="role-list"]')
    expect(await toggle.textContent()).toBe('Show roles')
    await toggle.click()
    await page.getByTestId('role-list').waitFor()
    expect(await page.getByTestId('role-list').locator('li').allTextContents()).toEqual(['member', 'admin', 'owner'])
    expect(await toggle.getAttribute('aria-expanded')).toBe('true')
    expect(await toggle.textContent()).toBe('Hide roles')

    // Hydration used the dehydrated cache: the browser made no tRPC request of its own.
    const trpcCalls = await page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/api/trpc')).length)
    expect(trpcCalls).toBe(0)
    expect(pageErrors).toEqual([])
    await context.close()
  })
})
