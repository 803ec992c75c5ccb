/**
 * Email verification by emailed link, against the real database. Links are read from the outbox
 * (MAIL_TRANSPORT=outbox): no SMTP relay can run here, and that is the one sanctioned fake.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import appConfig from '../../app.config'
import type { User } from '../../db/schema'
import { hashPassword } from '../../src/server/auth/password'
import { EMAIL_VERIFICATION_TOKEN_TTL_SECONDS } from '../../src/server/auth/one-time-tokens'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { createUser } from '../../src/server/users/users'
import { countRows, nextTestIp, readUser, signedInCaller, sql, uniqueEmail } from '../support/auth-fixtures'
import { callerWithResponse } from '../support/caller'
import { expectAppError } from '../support/trpc-errors'

const PASSWORD = 'verify amber lantern harbour 58'
let passwordHash: string

beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD)
})

afterEach(() => {
  resetClockForTests()
})

async function createUnverifiedUser(): Promise<User> {
  return createUser(getDb(), { email: uniqueEmail('verify'), name: 'Verify Tester', passwordHash, role: 'member', organizationId: null })
}

function anonymous() {
  return callerWithResponse({ ip: nextTestIp() })
}

async function outboxFor(email: string) {
  return sql('SELECT subject, text_body AS text FROM mail_outbox WHERE to_address = ? ORDER BY created_at, id', [email])
}

/** The token of the newest verification link mailed to `email`. */
async function tokenFromLatestMail(email: string): Promise<string> {
  const text = String((await outboxFor(email)).at(-1)?.text ?? '')
  const link = text.match(/https?:\/\/\S+/)?.[0]
  if (!link) throw new Error(`no link in the newest mail to ${email}`)
  const url = new URL(link)
  expect(`${url.origin}${url.pathname}`).toBe('http://localhost:3000/verify-email')
  return url.searchParams.get('token')!
}

/** Signs the user in (a session row) and asks for a verification mail; returns its token. */
async function mailVerificationLink(user: Pick<User, 'id' | 'email'>): Promise<string> {
  const { caller } = await signedInCaller(user, { ip: nextTestIp() })
  await expect(caller.auth.resendVerificationEmail()).resolves.toEqual({ status: 'sent' })
  return tokenFromLatestMail(user.email)
}

async function emailVerifiedAt(userId: string): Promise<Date | null> {
  return (await readUser(userId))!.emailVerifiedAt
}

describe('verification link', () => {
  it('sign-up mails a link; opening it marks the email verified (auth.me says so) and is audited', async () => {
    const email = uniqueEmail('signup')
    const browser = callerWithResponse({ ip: nextTestIp() })
    await browser.caller.auth.signUp({ email, password: PASSWORD, name: 'New Person' })
    const [mail] = await outboxFor(email)
    expect(mail!.subject).toBe(`Confirm your email for ${appConfig.appName}`)
    // Content spoofing: the name typed at sign-up never reaches the mailbox.
    expect(String(mail!.text)).not.toContain('New Person')

    const token = await tokenFromLatestMail(email)
    const [row] = await sql('SELECT token_hash AS tokenHash, user_id AS userId, purpose FROM one_time_tokens WHERE email = ?', [email])
    expect(row).toMatchObject({ purpose: 'email_verification', tokenHash: createHash('sha256').update(token).digest('hex') })

    await expect(anonymous().caller.auth.verifyEmail({ token })).resolves.toEqual({ status: 'verified' })
    expect(await emailVerifiedAt(String(row!.userId))).toBeInstanceOf(Date)
    const auditTypes = (await sql('SELECT type FROM audit_events WHERE subject_user_id = ?', [row!.userId])).map((r) => r.type)
    expect(auditTypes).toContain('email.verified')
  })

  it('works from any browser (no session needed) and the link is single-use', async () => {
    const user = await createUnverifiedUser()
    const token = await mailVerificationLink(user)
    await anonymous().caller.auth.verifyEmail({ token })
    const before = await countRows()
    await expectAppError(anonymous().caller.auth.verifyEmail({ token }), 'INVALID_TOKEN')
    expect(await countRows()).toEqual(before)
  })

  it('a link for a former address does nothing after the email changed (the new address is unproven)', async () => {
    const user = await createUnverifiedUser()
    const token = await mailVerificationLink(user)
    await sql('UPDATE users SET email = ? WHERE id = ?', [uniqueEmail('changed'), user.id])
    const before = await countRows()
    await expectAppError(anonymous().caller.auth.verifyEmail({ token }), 'INVALID_TOKEN')
    expect(await emailVerifiedAt(user.id)).toBeNull()
    expect((await sql('SELECT used_at AS usedAt FROM one_time_tokens WHERE user_id = ?', [user.id]))[0]!.usedAt).toBeNull()
    expect(await countRows()).toEqual(before)
  })

  it('expires after 24 hours', async () => {
    const user = await createUnverifiedUser()
    const token = await mailVerificationLink(user)
    advanceClockForTests(EMAIL_VERIFICATION_TOKEN_TTL_SECONDS * 1000 + 1000)
    await expectAppError(anonymous().caller.auth.verifyEmail({ token }), 'INVALID_TOKEN')
    expect(await emailVerifiedAt(user.id)).toBeNull()
  })

  it('a password-reset link is not a verification link (purpose is checked)', async () => {
    const user = await createUnverifiedUser()
    await anonymous().caller.auth.requestPasswordReset({ email: user.email })
    const text = String((await outboxFor(user.email)).at(-1)!.text)
    const resetToken = new URL(text.match(/https?:\/\/\S+/)![0]).searchParams.get('token')!
    await expectAppError(anonymous().caller.auth.verifyEmail({ token: resetToken }), 'INVALID_TOKEN')
    expect(await emailVerifiedAt(user.id)).toBeNull()
  })

  it('racing one link: concurrent verifications succeed once, the rest are INVALID_TOKEN', async () => {
    const user = await createUnverifiedUser()
    const token = await mailVerificationLink(user)
    const results = await Promise.allSettled([1, 2, 3].map(() => anonymous().caller.auth.verifyEmail({ token })))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    const audits = await sql("SELECT id FROM audit_events WHERE subject_user_id = ? AND type = 'email.verified'", [user.id])
    expect(audits).toHaveLength(1)
  })
})

describe('resendVerificationEmail', () => {
  it('needs a session (UNAUTHENTICATED otherwise) and sends nothing', async () => {
    const before = await countRows()
    await expectAppError(anonymous().caller.auth.resendVerificationEmail(), 'UNAUTHENTICATED')
    expect(await countRows()).toEqual(before)
  })

  it('a newer link replaces the older one', async () => {
    const user = await createUnverifiedUser()
    const older = await mailVerificationLink(user)
    const newer = await mailVerificationLink(user)
    await expectAppError(anonymous().caller.auth.verifyEmail({ token: older }), 'INVALID_TOKEN')
    await expect(anonymous().caller.auth.verifyEmail({ token: newer })).resolves.toEqual({ status: 'verified' })
  })

  it('an already verified user gets no mail', async () => {
    const user = await createUnverifiedUser()
    await anonymous().caller.auth.verifyEmail({ token: await mailVerificationLink(user) })
    const mailsBefore = (await outboxFor(user.email)).length
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await expect(caller.auth.resendVerificationEmail()).resolves.toEqual({ status: 'already-verified' })
    expect(await outboxFor(user.email)).toHaveLength(mailsBefore)
  })

  it('mail bombing: resends are rate-limited per account (RATE_LIMITED + Retry-After), and nothing more is sent', async () => {
    const user = await createUnverifiedUser()
    for (let i = 0; i < appConfig.rateLimits.verificationResendPerAccount.limit; i++) await mailVerificationLink(user)
    const session = await signedInCaller(user, { ip: nextTestIp() })
    const before = await countRows()
    await expectAppError(session.caller.auth.resendVerificationEmail(), 'RATE_LIMITED')
    expect(Number(session.responseHeaders.get('retry-after'))).toBeGreaterThan(0)
    expect(await countRows()).toEqual(before)
  })
})
