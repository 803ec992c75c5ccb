/**
 * Step-up re-authentication at the identity provider (SPEC §3 for SSO users; NIST 800-63B-4 §2.2.3
 * re-authentication before sensitive actions), against the real local provider (oidc-provider 9).
 *
 * An SSO-only admin has no password to type: the `reauth` flow sends them to the IdP with
 * `prompt=login` / `max_age=0` (OIDC Core §3.1.2.1) and the callback stamps the session only when
 * the answer is a fresh login (`auth_time`, OIDC Core §2) of the same identity, delivered to the
 * session that asked. Attacks refused, each with nothing written to accounts or sessions:
 * - a colleague (or an attacker with their own IdP account) completes the step-up in the victim's
 *   browser — identity substitution;
 * - the IdP answers from an old login session (ignores `max_age`), or a replayed ID token carries
 *   an old `auth_time` — stale authentication;
 * - a `reauth` flow started by one session is completed in a browser holding another session
 *   (session swap, the step-up flavour of login CSRF).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { callerWithToken, createTestUser, sql, tableChecksums } from '../support/auth-fixtures'
import { getSessionCookieName } from '../../src/server/auth/session-cookie'
import { getServerEnv } from '../../src/server/env'
import type { LocalOidcFaults } from '../../scripts/idp/oidc-provider'
import { auditEventsOfType } from '../support/sso-fixtures'
import { expectAppError } from '../support/trpc-errors'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import {
  beginStepUpIn,
  callerIn,
  deliverCallback,
  loginThroughIdp,
  sessionTokenIn,
  startOidcTestbed,
  type OidcTestbed,
  type TestBrowser,
} from '../support/oidc-fixtures'

const domain = 'sso-step-up.test'
const ADA = { email: `ada@${domain}`, password: 'ada-idp-password', name: 'Ada Admin', groups: ['idp-admins'], sub: 'ada-step-up' }
const BOB = { email: `bob@${domain}`, password: 'bob-idp-password', name: 'Bob Member', groups: [], sub: 'bob-step-up' }

let testbed: OidcTestbed
let targetUserId: string

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed([ADA, BOB], [{ groupRoleMap: { 'idp-admins': 'admin' }, defaultRole: 'member', domain }])
  // Bob has an account of his own (provisioned by a first sign-in): he is a real, known identity.
  await loginThroughIdp(BOB)
  const { user } = await createTestUser({ organizationId: testbed.tenants[0]!.organization.id, role: 'member' })
  targetUserId = user.id
})

afterEach(() => {
  testbed.idp.setFaults(null)
})

afterAll(async () => {
  await testbed?.stop()
})

/** Ada signed in through SSO in a fresh browser, her session older than the re-authentication window. */
async function staleAdaBrowser(): Promise<TestBrowser> {
  const { browser, response } = await loginThroughIdp(ADA)
  expect(response.status).toBe(303)
  await sql('UPDATE sessions SET reauthenticated_at = reauthenticated_at - INTERVAL 1 HOUR WHERE user_id = (SELECT id FROM users WHERE email = ?)', [ADA.email])
  await expectAppError(callerIn(browser).admin.users.setRole({ userId: targetUserId, role: 'admin' }), 'REAUTH_REQUIRED')
  return browser
}

/** What a refused step-up must leave alone: accounts, sessions (no stamp, no rotation), identities, organizations. */
async function accountChecksums() {
  const { users, sessions, sso_identities, organizations } = await tableChecksums()
  return { users, sessions, sso_identities, organizations }
}

describe('step-up at the IdP for an SSO-only admin', () => {
  it('a stale session gets REAUTH_REQUIRED, re-authenticates at the IdP, then changes a role; the old token is dead', async () => {
    const browser = await staleAdaBrowser()
    const oldToken = sessionTokenIn(browser)!
    const [ada] = await sql('SELECT id, password_hash FROM users WHERE email = ?', [ADA.email])
    expect(ada!.password_hash).toBeNull()

    const url = await beginStepUpIn(browser, '/admin/users')
    expect(new URL(url).searchParams.get('prompt')).toBe('login')
    expect(new URL(url).searchParams.get('max_age')).toBe('0')
    const response = await deliverCallback(browser, await signInAtLocalIdp(url, ADA))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/admin/users')

    const newToken = sessionTokenIn(browser)!
    expect(newToken).not.toBe(oldToken)
    expect(await callerIn(browser).admin.users.setRole({ userId: targetUserId, role: 'admin' })).toEqual({ role: 'admin' })
    expect(await callerWithToken(oldToken).caller.auth.me()).toBeNull()
    const [session] = await sql('SELECT reauthenticated_with AS factor FROM sessions WHERE user_id = ? ORDER BY reauthenticated_at DESC LIMIT 1', [ada!.id])
    expect(session!.factor).toBe('idp')
    expect((await auditEventsOfType('auth.reauthenticated')).filter((event) => event.subjectUserId === ada!.id || event.actorUserId === ada!.id).at(-1)?.details).toMatchObject({ factor: 'idp' })
    await sql('UPDATE users SET role = ? WHERE id = ?', ['member', targetUserId])
  })

  type RefusalCase = {
    attack: string
    reason: 'reauth_other_user' | 'reauth_stale' | 'reauth_session_mismatch'
    /** Who signs in at the IdP. */
    signInAs: { email: string; password: string }
    /** Test-only IdP faults (the ID token as a hostile or careless IdP would send it). */
    faults?: LocalOidcFaults
    /** The browser the callback arrives in (the one that started the flow unless given). */
    deliverIn?: (browser: TestBrowser) => Promise<TestBrowser>
  }

  /** The same device (its SSO binding cookie) now presenting the session `other` holds. */
  function withSessionOf(browser: TestBrowser, other: TestBrowser): TestBrowser {
    const swapped: TestBrowser = { ip: browser.ip, cookies: new Map(browser.cookies) }
    swapped.cookies.set(getSessionCookieName(getServerEnv().appUrl), sessionTokenIn(other)!)
    return swapped
  }

  const refusals: RefusalCase[] = [
    { attack: 'another IdP user signs in at the IdP (identity substitution)', reason: 'reauth_other_user', signInAs: BOB },
    {
      attack: 'the ID token carries an old auth_time (the IdP ignored max_age=0, or answered from an old login)',
      reason: 'reauth_stale',
      signInAs: ADA,
      faults: { idToken: { claims: { auth_time: Math.floor(Date.now() / 1000) - 3600 } } },
    },
    { attack: 'the ID token carries no auth_time at all', reason: 'reauth_stale', signInAs: ADA, faults: { idToken: { removeClaims: ['auth_time'] } } },
    {
      attack: 'a reauth flow started by one session is completed in the same browser holding another of her sessions (session swap)',
      reason: 'reauth_session_mismatch',
      signInAs: ADA,
      deliverIn: async (browser) => withSessionOf(browser, (await loginThroughIdp(ADA)).browser),
    },
    {
      attack: 'a reauth flow is completed in the same browser without any session (it must not become a sign-in)',
      reason: 'reauth_session_mismatch',
      signInAs: ADA,
      deliverIn: async (browser) => {
        const cookies = new Map(browser.cookies)
        cookies.delete(getSessionCookieName(getServerEnv().appUrl))
        return { ip: browser.ip, cookies }
      },
    },
    {
      attack: "a reauth flow is completed in a browser holding another user's session",
      reason: 'reauth_session_mismatch',
      signInAs: ADA,
      deliverIn: async (browser) => withSessionOf(browser, (await loginThroughIdp(BOB)).browser),
    },
  ]

  it.each(refusals)('refused with nothing written: $attack', async ({ reason, signInAs, faults, deliverIn }) => {
    const browser = await staleAdaBrowser()
    const tokenBefore = sessionTokenIn(browser)
    const url = await beginStepUpIn(browser, '/admin/users')
    const target = deliverIn ? await deliverIn(browser) : browser
    const tokenInTargetBefore = sessionTokenIn(target)
    if (faults) testbed.idp.setFaults(faults)
    const callbackUrl = await signInAtLocalIdp(url, signInAs)
    const failuresBefore = (await auditEventsOfType('sso.sign_in.failed')).length
    const before = await accountChecksums()

    const response = await deliverCallback(target, callbackUrl)

    expect(response.status).toBe(403)
    expect(await accountChecksums()).toEqual(before)
    const failures = await auditEventsOfType('sso.sign_in.failed')
    expect(failures.slice(failuresBefore).map((event) => event.details.reason)).toEqual([reason])
    // No rotation, no stamp: both browsers keep their tokens and Ada's session is still stale.
    expect(sessionTokenIn(target)).toBe(tokenInTargetBefore)
    expect(sessionTokenIn(browser)).toBe(tokenBefore)
    await expectAppError(callerIn(browser).admin.users.setRole({ userId: targetUserId, role: 'admin' }), 'REAUTH_REQUIRED')
    const [targetUser] = await sql('SELECT role FROM users WHERE id = ?', [targetUserId])
    expect(targetUser!.role).toBe('member')
  })
})
