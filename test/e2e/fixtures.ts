/**
 * Browser-test fixtures: users inserted straight into the server's database (real argon2id
 * hashes, no sign-up round trip or rate-limit budget spent), and small page helpers.
 */
import { randomBytes } from 'node:crypto'
import type { Page } from 'playwright-core'
import { sql } from 'drizzle-orm'
import { hashPassword } from '../../src/server/auth/password'
import { createDatabase, type DatabaseHandle } from '../../src/server/db/client'
import { createOrganization, createUser } from '../../src/server/users/users'
import type { Role } from '../../src/lib/roles'

/** Long enough for the password-only minimum (15) and on no blocklist. */
export const E2E_PASSWORD = 'plum orbit lantern 7 quietly'

export type E2eUser = { id: string; email: string; name: string; password: string }

/** One pool per test file on the app server's database. */
export function connectToAppDatabase(databaseUrl: string): DatabaseHandle {
  return createDatabase(databaseUrl, { connectionLimit: 2 })
}

/** A unique email under example.test. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}@example.test`
}

/** Inserts an organization with a unique slug. */
export async function createE2eOrganization(handle: DatabaseHandle, name: string) {
  return createOrganization(handle.db, { name, slug: `org-${randomBytes(4).toString('hex')}` })
}

/** Inserts a verified password user. */
export async function createE2eUser(
  handle: DatabaseHandle,
  options: { name: string; role?: Role; organizationId?: string | null; password?: string; emailPrefix?: string },
): Promise<E2eUser> {
  const password = options.password ?? E2E_PASSWORD
  const user = await createUser(handle.db, {
    email: uniqueEmail(options.emailPrefix ?? 'e2e'),
    name: options.name,
    passwordHash: await hashPassword(password),
    role: options.role ?? 'member',
    organizationId: options.organizationId ?? null,
    emailVerifiedAt: new Date(),
  })
  return { id: user.id, email: user.email, name: user.name, password }
}

/** Ages every session of the user past the re-auth window, as if it signed in an hour ago. */
export async function ageReauthentication(handle: DatabaseHandle, userId: string): Promise<void> {
  await handle.db.execute(sql`UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE user_id = ${userId}`)
}

/** Step 1 of the login page: types the email and continues (to the password step or the IdP). */
export async function submitLoginEmail(page: Page, email: string): Promise<void> {
  await waitForHydration(page)
  await page.getByLabel('Email').fill(email)
  await page.getByRole('button', { name: 'Continue', exact: true }).click()
}

/** Both steps of the login page for a password account: email, continue, password, sign in. */
export async function submitLoginForm(page: Page, user: Pick<E2eUser, 'email' | 'password'>): Promise<void> {
  await submitLoginEmail(page, user.email)
  const passwordField = page.getByLabel('Password', { exact: true })
  await passwordField.waitFor()
  await passwordField.fill(user.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** The break-glass entry: the email, then "Sign in with a password" (no discovery), then the password. */
export async function submitPasswordLoginSkippingSso(page: Page, user: Pick<E2eUser, 'email' | 'password'>): Promise<void> {
  await waitForHydration(page)
  await page.getByLabel('Email').fill(user.email)
  await page.getByRole('button', { name: 'Sign in with a password' }).click()
  const passwordField = page.getByLabel('Password', { exact: true })
  await passwordField.waitFor()
  await passwordField.fill(user.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** Signs in through the login page and waits for the dashboard. */
export async function signInThroughUi(page: Page, baseUrl: string, user: Pick<E2eUser, 'email' | 'password'>): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  await submitLoginForm(page, user)
  await page.waitForURL(`${baseUrl}/app`)
}

/**
 * Collects uncaught page errors and console errors. Chromium logs every non-2xx fetch as
 * "Failed to load resource"; those are expected here (401 for a revoked session, 401 for a wrong
 * password) and left out.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`)
  })
  return errors
}

/** Makes the page believe the user came back to the tab (what TanStack Query's focus manager listens to). */
export async function simulateTabRefocus(page: Page): Promise<void> {
  await page.evaluate(() => {
    // A real visibilitychange fires at the document and bubbles to window, where the listener is.
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
  })
}

/** Waits until React has hydrated the page (`src/routes/__root.tsx` marks the document): before that, controls are inert. */
export async function waitForHydration(page: Page): Promise<void> {
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' })
}
