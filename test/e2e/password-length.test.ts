/**
 * Issue 11 item 7 in a real browser: a pasted 300-character password is neither cut by the field
 * (the sign-up field's `maxlength` used to cut it to 256 while sign-in sent it whole, locking the
 * account out) nor accepted: the form says why, on sign-up and on sign-in, and no account appears.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { collectPageErrors, connectToAppDatabase, submitLoginForm, uniqueEmail } from './fixtures'
import type { DatabaseHandle } from '../../src/server/db/client'

const PASTED_300 = Array.from({ length: 30 }, (_, i) => `lantern${String(i).padStart(2, '0')} `).join('').slice(0, 300)

describe('a 300-character password in the browser', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startAppServer({ runId: inject('runId'), name: 'e2e_password_length' }), launchBrowser()])
    database = connectToAppDatabase(server.databaseUrl)
  })
  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it('sign-up keeps all 300 characters in the field and refuses them with the limit; sign-in says the same', async () => {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/signup`)
    const email = uniqueEmail('long')
    await page.getByLabel('Name').fill('Lena Long')
    await page.getByLabel('Email').fill(email)
    const passwordField = page.getByLabel('Password', { exact: true })
    await passwordField.fill(PASTED_300)
    expect(await passwordField.inputValue()).toHaveLength(300)
    await page.getByRole('button', { name: 'Create account' }).click()
    await expect.poll(() => page.getByText('Use at most 256 characters.').count()).toBeGreaterThan(0)
    expect(new URL(page.url()).pathname).toBe('/signup')
    const [rows] = await database.pool.query('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(0)

    await page.goto(`${server.url}/login`)
    await submitLoginForm(page, { email, password: PASTED_300 })
    await expect.poll(() => page.getByText('Use at most 256 characters.').count()).toBeGreaterThan(0)
    expect(errors).toEqual([])
    await context.close()
  })
})
