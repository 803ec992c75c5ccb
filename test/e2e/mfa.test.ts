/**
 * TOTP MFA in a real browser against the production build: enroll by reading the key from the
 * page, sign in with a code computed independently (oathtool), sign in with a recovery code,
 * regenerate recovery codes through the re-auth dialog, and forced enrollment by org policy.
 *
 * Time steps: the server accepts each 30-second step once per user and codes of ±1 step. The
 * test remembers the highest step it has spent and always sends a later one (the next step's code
 * is valid already now), waiting for a step boundary only when it has run out.
 */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { sql } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { DatabaseHandle } from '../../src/server/db/client'
import { startAppServer, type RunningAppServer } from '../setup/app-server'
import { launchBrowser, newIsolatedContext } from './browser'
import { ageReauthentication, collectPageErrors, connectToAppDatabase, createE2eOrganization, createE2eUser, signInThroughUi, submitLoginForm } from './fixtures'

const STEP_SECONDS = 30

function currentStep(): number {
  return Math.floor(Date.now() / 1000 / STEP_SECONDS)
}

/** The code of a base32 key at a time step, from oathtool (independent of otpauth, which the server uses). */
function oathtoolCode(base32Key: string, step: number): string {
  return execFileSync('oathtool', ['--totp', '-b', base32Key, '--now', `@${step * STEP_SECONDS}`], { encoding: 'utf8' }).trim()
}

/** Hands out codes for steps the server has not seen yet, in increasing order. */
function createCodeSource(base32Key: string) {
  let lastSpentStep = -1
  return {
    /** The code of the current step (enrollment). */
    current(): string {
      lastSpentStep = Math.max(lastSpentStep, currentStep())
      return oathtoolCode(base32Key, lastSpentStep)
    },
    /** The code of the earliest unspent step inside the ±1 window, waiting for the clock if needed. */
    async fresh(): Promise<{ code: string; waitedMs: number }> {
      const started = Date.now()
      // The next step's code is accepted now; beyond that we must wait for time to move on.
      while (lastSpentStep + 1 > currentStep() + 1) await new Promise((resolve) => setTimeout(resolve, 250))
      lastSpentStep = Math.max(lastSpentStep + 1, currentStep())
      return { code: oathtoolCode(base32Key, lastSpentStep), waitedMs: Date.now() - started }
    },
  }
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out', exact: true }).first().click()
  await page.waitForURL((url) => url.pathname === '/login' || url.pathname === '/')
}

describe('TOTP MFA in a real browser', () => {
  let server: RunningAppServer
  let browser: Browser
  let database: DatabaseHandle

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startAppServer({ runId: inject('runId'), name: 'e2e_mfa' }), launchBrowser()])
    database = connectToAppDatabase(server.databaseUrl)
  })
  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stop()
  })

  it('enrolls from settings, signs in with a code and with a recovery code, regenerates codes after re-auth', { timeout: 120_000 }, async () => {
    const timings: Record<string, number> = {}
    const mark = (label: string, since: number) => (timings[label] = Date.now() - since)
    const user = await createE2eUser(database, { name: 'Tess Totp', emailPrefix: 'totp' })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    await signInThroughUi(page, server.url, user)

    // Enroll: the key is read off the page, the code comes from oathtool.
    let since = Date.now()
    await page.goto(`${server.url}/settings/security`)
    // One click: the QR code appears (no second "start" button in between).
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click()
    const keyText = await page.getByTestId('totp-manual-key').textContent()
    const key = keyText!.replace(/\s/g, '')
    expect(key).toMatch(/^[A-Z2-7]{32}$/)
    expect(await page.getByTestId('totp-qr-code').getAttribute('src')).toMatch(/^data:image\/svg\+xml/)
    await page.screenshot({ path: '/tmp/gatehouse-mfa-enroll.png', fullPage: true })
    const codes = createCodeSource(key)
    await page.getByLabel('Authentication code').fill(codes.current())
    await page.getByRole('button', { name: 'Verify and turn on' }).click()

    const recoveryCodeItems = page.getByTestId('recovery-code')
    await expect.poll(() => recoveryCodeItems.count()).toBe(10)
    // MFA is on now: the card no longer says "Set up…".
    await page.getByRole('heading', { name: 'Two-factor authentication is on' }).waitFor()
    const recoveryCodes = (await recoveryCodeItems.allTextContents()).map((code) => code.trim())
    expect(new Set(recoveryCodes).size).toBe(10)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .txt' }).click()])
    expect(download.suggestedFilename()).toBe('gatehouse-recovery-codes.txt')
    const downloaded = await readFile((await download.path())!, 'utf8')
    for (const code of recoveryCodes) expect(downloaded).toContain(code)
    await page.screenshot({ path: '/tmp/gatehouse-mfa-recovery-codes.png', fullPage: true })
    const continueButton = page.getByRole('button', { name: 'Continue' })
    expect(await continueButton.isDisabled()).toBe(true)
    await page.getByLabel('I have saved these codes somewhere safe').check()
    await continueButton.click()
    await expect.poll(() => page.getByTestId('recovery-codes-remaining').textContent()).toBe('10 left')
    mark('enroll', since)

    // Sign in again: password, then a code for a step the enrollment did not spend.
    since = Date.now()
    await signOut(page)
    await page.goto(`${server.url}/login`)
    await submitLoginForm(page, user)
    await page.waitForURL(`${server.url}/login/mfa?redirect=%2Fapp`)
    await page.screenshot({ path: '/tmp/gatehouse-mfa-challenge.png', fullPage: true })
    // A wrong code is refused inline and the challenge stays open.
    await page.getByLabel('Authentication code').fill(oathtoolCode(key, currentStep() - 5))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.getByText('That code is not valid.').waitFor()
    // The next attempt is typed straight away: focus is back in the code field.
    expect(await page.getByLabel('Authentication code').evaluate((field) => field === document.activeElement)).toBe(true)
    expect(page.url()).toBe(`${server.url}/login/mfa?redirect=%2Fapp`)
    const signInCode = await codes.fresh()
    timings['wait for a fresh step (sign-in)'] = signInCode.waitedMs
    await page.getByLabel('Authentication code').fill(signInCode.code)
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForURL(`${server.url}/app`)
    mark('sign in with TOTP', since)

    // And with a recovery code.
    since = Date.now()
    await signOut(page)
    await page.goto(`${server.url}/login`)
    await submitLoginForm(page, user)
    await page.waitForURL(`${server.url}/login/mfa?redirect=%2Fapp`)
    await page.getByRole('button', { name: 'Use a recovery code' }).click()
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!)
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForURL(`${server.url}/app`)
    await page.getByText('9 recovery codes left.', { exact: false }).waitFor()
    mark('sign in with a recovery code', since)

    // Regenerate: the sign-in was a re-auth; age it so the server asks again, and answer with a code.
    since = Date.now()
    await ageReauthentication(database, user.id)
    await page.goto(`${server.url}/settings/security`)
    await expect.poll(() => page.getByTestId('recovery-codes-remaining').textContent()).toBe('9 left')
    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click()
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await dialog.waitFor()
    await dialog.getByRole('button', { name: 'Authenticator code' }).click()
    const reauthCode = await codes.fresh()
    timings['wait for a fresh step (re-auth)'] = reauthCode.waitedMs
    await dialog.getByLabel('Authentication code').fill(reauthCode.code)
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => dialog.count()).toBe(0)
    await expect.poll(() => recoveryCodeItems.count()).toBe(10)
    const newCodes = (await recoveryCodeItems.allTextContents()).map((code) => code.trim())
    expect(newCodes.filter((code) => recoveryCodes.includes(code))).toEqual([])
    await page.getByLabel('I have saved these codes somewhere safe').check()
    await page.getByRole('button', { name: 'Done' }).click()
    await expect.poll(() => page.getByTestId('recovery-codes-remaining').textContent()).toBe('10 left')
    mark('regenerate with re-auth', since)

    // Turning MFA off asks for confirmation and the current password first (the re-auth above is
    // still fresh): the password alone will open the account afterwards (ADR 018).
    await page.getByRole('button', { name: 'Turn off' }).click()
    const confirmation = page.getByRole('dialog', { name: 'Turn off two-factor authentication?' })
    await confirmation.getByLabel('Current password').fill(`${user.password} typo`)
    await confirmation.getByRole('button', { name: 'Turn off' }).click()
    await confirmation.getByText('Your current password is incorrect.').waitFor()
    await confirmation.getByLabel('Current password').fill(user.password)
    await confirmation.getByRole('button', { name: 'Turn off' }).click()
    await expect.poll(() => confirmation.count()).toBe(0)
    await page.getByText('Two-factor authentication is off.').first().waitFor()

    const [audit] = await database.db.execute(sql`SELECT type FROM audit_events WHERE subject_user_id = ${user.id} ORDER BY id`)
    expect((audit as unknown as Array<{ type: string }>).map((row) => row.type)).toEqual(
      expect.arrayContaining(['mfa.enrolled', 'auth.sign_in.succeeded', 'mfa.recovery_code.used', 'auth.reauthenticated', 'mfa.recovery_codes.regenerated', 'mfa.disabled']),
    )
    expect(errors).toEqual([])
    console.info(`[mfa e2e] timings (ms): ${JSON.stringify(timings)}`)
    await context.close()
  })

  it('walks a user whose organization requires MFA through enrollment before anything else', { timeout: 60_000 }, async () => {
    const organization = await createE2eOrganization(database, 'Initrode')
    await database.db.execute(sql`UPDATE organizations SET mfa_policy = 'required' WHERE id = ${organization.id}`)
    const user = await createE2eUser(database, { name: 'Fran Forced', organizationId: organization.id, emailPrefix: 'forced' })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)
    await submitLoginForm(page, user)
    await page.waitForURL(`${server.url}/mfa/enroll?redirect=%2Fsettings%2Fsecurity`)
    await page.getByText('Initrode requires two-factor authentication').waitFor()
    // Nothing else opens until enrollment is done.
    await page.goto(`${server.url}/app`)
    await page.waitForURL(`${server.url}/mfa/enroll?redirect=%2Fapp`)

    await page.getByRole('button', { name: 'Begin setup' }).click()
    await page.getByTestId('totp-qr-code').waitFor()
    await page.screenshot({ path: '/tmp/gatehouse-mfa-forced.png', fullPage: true })
    const key = (await page.getByTestId('totp-manual-key').textContent())!.replace(/\s/g, '')
    await page.getByLabel('Authentication code').fill(createCodeSource(key).current())
    await page.getByRole('button', { name: 'Verify and turn on' }).click()
    await expect.poll(() => page.getByTestId('recovery-code').count()).toBe(10)
    await page.getByLabel('I have saved these codes somewhere safe').check()
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(`${server.url}/app`)
    await page.getByRole('link', { name: 'Security' }).click()
    await expect.poll(() => page.getByTestId('recovery-codes-remaining').textContent()).toBe('10 left')
    expect(errors).toEqual([])
    await context.close()
  })

  it('a password allowed only beside a second factor: without one, sign-in leads to enrollment (saying why), and MFA cannot be turned off again', { timeout: 90_000 }, async () => {
    // As after an admin's MFA reset: no factor, a 10-character password (allowed only with MFA).
    const user = await createE2eUser(database, { name: 'Sam Short', emailPrefix: 'short', password: 'Kx9#mQ2vLp' })
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/login?redirect=%2Fsettings%2Fsecurity`)
    await submitLoginForm(page, user)
    await page.waitForURL(`${server.url}/mfa/enroll?redirect=%2Fsettings%2Fsecurity`)
    await page.getByText('Your password is too short or too easy to guess to protect your account on its own').waitFor()
    await page.screenshot({ path: '/tmp/gatehouse-mfa-short-password.png', fullPage: true })
    // Nothing else opens until enrollment is done.
    await page.goto(`${server.url}/app`)
    await page.waitForURL(`${server.url}/mfa/enroll?redirect=%2Fapp`)

    await page.getByRole('button', { name: 'Begin setup' }).click()
    const key = (await page.getByTestId('totp-manual-key').textContent())!.replace(/\s/g, '')
    const codes = createCodeSource(key)
    await page.getByLabel('Authentication code').fill(codes.current())
    await page.getByRole('button', { name: 'Verify and turn on' }).click()
    await expect.poll(() => page.getByTestId('recovery-code').count()).toBe(10)
    await page.getByLabel('I have saved these codes somewhere safe').check()
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(`${server.url}/app`)

    // Turning it off again: the step-up asks for a code, then the password is refused with what to do.
    await page.getByRole('link', { name: 'Security' }).click()
    await page.getByRole('button', { name: 'Turn off' }).click()
    const confirmation = page.getByRole('dialog', { name: 'Turn off two-factor authentication?' })
    await confirmation.getByLabel('Current password').fill(user.password)
    await confirmation.getByRole('button', { name: 'Turn off' }).click()
    const reauth = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await reauth.waitFor()
    await reauth.getByLabel('Authentication code').fill((await codes.fresh()).code)
    await reauth.getByRole('button', { name: 'Confirm' }).click()
    await confirmation.getByText('Change your password first, then turn two-factor authentication off.').waitFor()
    await page.screenshot({ path: '/tmp/gatehouse-mfa-disable-refused.png', fullPage: true })
    await confirmation.getByRole('button', { name: 'Cancel' }).click()
    await expect.poll(() => page.getByTestId('recovery-codes-remaining').textContent()).toBe('10 left')
    expect(errors).toEqual([])
    await context.close()
  })
})
