/**
 * `auth.describeOneTimeLink`: the pages tell the truth about an emailed link before asking for
 * input, without consuming it (issue 12), and the lookup is bounded per IP.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { issueOneTimeToken, PASSWORD_RESET_TOKEN_TTL_SECONDS } from '../../src/server/auth/one-time-tokens'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { createTestUser, nextTestIp, sql } from '../support/auth-fixtures'
import { callerFor } from '../support/caller'
import { expectAppError } from '../support/trpc-errors'

afterEach(() => resetClockForTests())

function describeLink(token: string, purpose: 'password_reset' | 'email_verification', ip = nextTestIp()) {
  return callerFor({ ip }).auth.describeOneTimeLink({ token, purpose })
}

async function issue(user: { id: string; email: string }, purpose: 'password_reset' | 'email_verification') {
  return issueOneTimeToken(getDb(), { userId: user.id, purpose, email: user.email }, new Date())
}

describe('auth.describeOneTimeLink', () => {
  it('says a fresh reset link is valid, and looking does not use it up', async () => {
    const { user } = await createTestUser()
    const token = await issue(user, 'password_reset')
    expect(await describeLink(token, 'password_reset')).toEqual({ status: 'valid' })
    expect(await describeLink(token, 'password_reset')).toEqual({ status: 'valid' })
    const [row] = await sql('SELECT used_at FROM one_time_tokens WHERE user_id = ?', [user.id])
    expect(row!.used_at).toBeNull()
  })

  it('says a reset link that was used is used, before any password is typed', async () => {
    const { user } = await createTestUser()
    const token = await issue(user, 'password_reset')
    await callerFor({ ip: nextTestIp() }).auth.resetPassword({ token, password: 'a fresh lantern harbour 88' })
    expect(await describeLink(token, 'password_reset')).toEqual({ status: 'used' })
  })

  it('says an old reset link is expired', async () => {
    const { user } = await createTestUser()
    const token = await issue(user, 'password_reset')
    advanceClockForTests((PASSWORD_RESET_TOKEN_TTL_SECONDS + 1) * 1000)
    expect(await describeLink(token, 'password_reset')).toEqual({ status: 'expired' })
  })

  it('says a reopened verification link is already verified, not invalid', async () => {
    const { user } = await createTestUser()
    await sql('UPDATE users SET email_verified_at = NULL WHERE id = ?', [user.id])
    const token = await issue(user, 'email_verification')
    expect(await describeLink(token, 'email_verification')).toEqual({ status: 'valid' })
    await callerFor({ ip: nextTestIp() }).auth.verifyEmail({ token })
    expect(await describeLink(token, 'email_verification')).toEqual({ status: 'already_verified' })
  })

  it('answers invalid for a made-up token, a token of the other purpose, and a link to a former email', async () => {
    const { user } = await createTestUser()
    expect(await describeLink('x'.repeat(43), 'password_reset')).toEqual({ status: 'invalid' })
    expect(await describeLink('not a token', 'password_reset')).toEqual({ status: 'invalid' })
    const token = await issue(user, 'password_reset')
    expect(await describeLink(token, 'email_verification')).toEqual({ status: 'invalid' })
    await sql('UPDATE users SET email = ? WHERE id = ?', [`moved-${user.email}`, user.id])
    expect(await describeLink(token, 'password_reset')).toEqual({ status: 'invalid' })
  })

  it('token guessing through the lookup is bounded per IP (429 once the budget is spent)', async () => {
    const ip = nextTestIp()
    for (let attempt = 0; attempt < appConfig.rateLimits.oneTimeLinkLookupPerIp.limit; attempt++) await describeLink('y'.repeat(43), 'password_reset', ip)
    await expectAppError(describeLink('y'.repeat(43), 'password_reset', ip), 'RATE_LIMITED')
  })
})
