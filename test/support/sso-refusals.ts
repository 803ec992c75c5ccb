/**
 * "Nothing written" for a refused SSO callback, as issue 8 defines it: the checksums of the account
 * tables (users, sso_identities, sessions, organization_domains, sso_connections, organizations)
 * are unchanged, the flow row is consumed (a refused callback cannot be retried), exactly one
 * `sso.sign_in.failed` event is appended, and the browser got a 4xx page and no session cookie.
 *
 * The snapshot is taken after the IdP sign-in and just before the callback: the email-first step
 * legitimately writes the flow row and a rate-limit bucket, which are not account state.
 */
import { expect } from 'vitest'
import { hashFlowValue } from '../../src/server/sso/login-flows'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { getSetSessionCookie, sql, tableChecksums } from './auth-fixtures'
import { beginSignInAs, deliverCallback, newTestBrowser, type TestBrowser } from './oidc-fixtures'
import { auditEventsOfType } from './sso-fixtures'

/** The tables whose contents decide who may sign in as whom. */
export const ACCOUNT_TABLES = ['users', 'sso_identities', 'sessions', 'organization_domains', 'sso_connections', 'organizations'] as const

export type AccountStateSnapshot = { checksums: Record<string, string>; failedEventCount: number }

/** Checksums of the account tables and the number of `sso.sign_in.failed` events so far. */
export async function snapshotAccountState(): Promise<AccountStateSnapshot> {
  const all = await tableChecksums()
  const checksums = Object.fromEntries(ACCOUNT_TABLES.map((table) => [table, all[table]!]))
  return { checksums, failedEventCount: (await auditEventsOfType('sso.sign_in.failed')).length }
}

export type CapturedLogin = { browser: TestBrowser; callbackUrl: string; before: AccountStateSnapshot; response: Response }

/**
 * Email first → sign-in at the IdP → snapshot → callback. `emailForDiscovery` picks the connection
 * when the IdP user's own email would route elsewhere (or nowhere).
 */
export async function loginCapturingAccountState(
  credentials: { email: string; password: string },
  options: { browser?: TestBrowser; emailForDiscovery?: string } = {},
): Promise<CapturedLogin> {
  const browser = options.browser ?? newTestBrowser()
  const answer = await beginSignInAs(browser, options.emailForDiscovery ?? credentials.email)
  if (answer.next !== 'sso') throw new Error(`expected SSO for ${options.emailForDiscovery ?? credentials.email}, got ${answer.next}`)
  const callbackUrl = await signInAtLocalIdp(answer.url, credentials)
  const before = await snapshotAccountState()
  const response = await deliverCallback(browser, callbackUrl)
  return { browser, callbackUrl, before, response }
}

/** True when the flow named by the callback's `state` has been spent. */
export async function isFlowConsumed(callbackUrl: string): Promise<boolean> {
  const state = new URL(callbackUrl).searchParams.get('state') ?? ''
  const [row] = await sql('SELECT consumed_at FROM sso_login_flows WHERE state_hash = ?', [hashFlowValue(state)])
  if (!row) throw new Error('no flow row matches the callback state')
  return row.consumed_at !== null
}

/**
 * Asserts a refused SSO step whatever the protocol: `status` with the generic page naming `reason`,
 * no session cookie, no redirect, the account tables as in `before`, and exactly one more
 * `sso.sign_in.failed` event, with that reason. Returns the event for further checks.
 */
export async function expectRefusalWithNothingWritten(response: Response, before: AccountStateSnapshot, expected: { status: number; reason: string }) {
  expect({ status: response.status, page: await response.text() }).toEqual({ status: expected.status, page: expect.stringContaining(`<code>${expected.reason}</code>`) })
  expect(getSetSessionCookie(response.headers)).toBeNull()
  expect(response.headers.get('location')).toBeNull()

  const after = await snapshotAccountState()
  expect(after.checksums).toEqual(before.checksums)
  const failed = await auditEventsOfType('sso.sign_in.failed')
  expect(failed).toHaveLength(before.failedEventCount + 1)
  const event = failed.at(-1)!
  expect(event.details.reason).toBe(expected.reason)
  return event
}

/**
 * Asserts the refusal of an OIDC callback (`expectRefusalWithNothingWritten`) and that its flow
 * was consumed. Returns the event for further checks (its subject, organization).
 */
export async function expectRefusedWithNothingWritten(login: CapturedLogin, expected: { status: number; reason: string }) {
  const event = await expectRefusalWithNothingWritten(login.response, login.before, expected)
  expect(await isFlowConsumed(login.callbackUrl)).toBe(true)
  return event
}
