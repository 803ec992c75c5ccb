/**
 * With sign-up turned off in app.config.ts (invite-only deployments), auth.signUp refuses before
 * doing anything: no account, no session, no rate-limit row, no mail. app.config.ts is static, so
 * this file swaps in a copy with `signUp.isEnabled: false`.
 */
import { describe, expect, it, vi } from 'vitest'
import { callerWithResponse } from '../support/caller'
import { countRows, createTestUser, nextTestIp, sql, TEST_PASSWORD, uniqueEmail } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

vi.mock('../../app.config', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../app.config')>()
  return { default: { ...actual.default, signUp: { isEnabled: false } } }
})

describe('sign-up disabled', () => {
  it('auth.signUp answers SIGN_UP_DISABLED and writes nothing', async () => {
    const before = await countRows()
    const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })
    await expectAppError(caller.auth.signUp({ email: uniqueEmail('closed'), password: TEST_PASSWORD, name: 'Closed' }), 'SIGN_UP_DISABLED')
    expect(responseHeaders.getSetCookie()).toEqual([])
    expect(await countRows()).toEqual(before)
    expect(await sql('SELECT `key` FROM rate_limit_buckets')).toHaveLength(0)
  })

  it('system.info tells the client not to offer sign-up', async () => {
    expect(await callerWithResponse({ ip: nextTestIp() }).caller.system.info()).toMatchObject({ isSignUpEnabled: false })
  })

  it('existing accounts still sign in', async () => {
    const { user, password } = await createTestUser()
    await expect(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email: user.email, password })).resolves.toEqual({ status: 'signed-in' })
  })
})
