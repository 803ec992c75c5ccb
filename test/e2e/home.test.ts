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

  it('is server-rendered, hydrates, and navigates in the browser', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text())
    })

    // The first HTML is the whole page.
    const response = await page.goto(server.url, { waitUntil: 'commit' })
    const firstHtml = await response!.text()
    expect(firstHtml).toContain('data-testid="app-name">Gatehouse</h1>')
    expect(firstHtml).toContain('href="/login"')
    // Production shows no demo accounts (they exist only in development).
    expect(firstHtml).not.toContain('home-demo-accounts')
    await page.waitForLoadState('networkidle')

    // Hydration used the dehydrated cache: the browser made no tRPC request of its own.
    const trpcCalls = await page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/api/trpc')).length)
    expect(trpcCalls).toBe(0)

    // A click is a client-side navigation only once React has hydrated the server HTML: the
    // marker set on this document survives it.
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }))
    await page.getByRole('main').getByRole('link', { name: 'Create an account' }).click()
    await page.waitForURL(`${server.url}/signup`)
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true)
    expect(pageErrors).toEqual([])
    await context.close()
  })
})
