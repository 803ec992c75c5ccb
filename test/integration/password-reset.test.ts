/**
 * Password reset by emailed link, against the real database. The mail is read from the outbox
 * (MAIL_TRANSPORT=outbox): no SMTP relay can run here, and that is the one sanctioned fake.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import appConfig from '../../app.config'
import type { User } from '../../db/schema'
import { hashPassword, verifyPassword } from '../../src/server/auth/password'
import { PASSWORD_RESET_TOKEN_TTL_SECONDS } from '../../src/server/auth/one-time-tokens'
import { PASSWORD_RESET_REQUEST_MIN_RESPONSE_MS } from '../../src/server/auth/password-reset'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { createUser } from '../../src/server/users/users'
import { countRows, nextTestIp, readUser, signedInCaller, sql, uniqueEmail } from '../support/auth-fixtures'
import { callerWithResponse } from '../support/caller'
import { expectAppError } from '../support/trpc-errors'

const OLD_PASSWORD = 'old horse battery staple 41'
const NEW_PASSWORD = 'new violet lantern harbour 77'
const OTHER_PASSWORD = 'other quiet meadow orbit 93'

let oldPasswordHash: string

beforeAll(async () => {
  oldPasswordHash = await hashPassword(OLD_PASSWORD)
})

afterEach(() => {
  resetClockForTests()
})

/** A password account created the way the app creates one (users.ts), email not yet verified. */
async function createPasswordUser(options: { passwordHash?: string | null; isMfaEnabled?: boolean; isDisabled?: boolean } = {}): Promise<User> {
  const user = await createUser(getDb(), {
    email: uniqueEmail('reset'),
    name: 'Reset Tester',
    passwordHash: options.passwordHash === undefined ? oldPasswordHash : options.passwordHash,
    role: 'member',
    organizationId: null,
  })
  if (options.isMfaEnabled) await sql('UPDATE users SET mfa_enabled_at = ? WHERE id = ?', [new Date(), user.id])
  if (options.isDisabled) await sql('UPDATE users SET disabled_at = ? WHERE id = ?', [new Date(), user.id])
  return (await readUser(user.id))!
}

/** An anonymous browser from its own address (so tests never share a rate-limit bucket by accident). */
function anonymous(ip = nextTestIp()) {
  return callerWithResponse({ ip })
}

async function outboxFor(email: string) {
  return sql('SELECT subject, text_body AS text, created_at AS createdAt FROM mail_outbox WHERE to_address = ? ORDER BY created_at, id', [email])
}

/** Follows the newest reset link mailed to `email`: the token from its query string. */
async function tokenFromLatestMail(email: string): Promise<string> {
  const mails = await outboxFor(email)
  const text = String(mails.at(-1)?.text ?? '')
  const link = text.match(/https?:\/\/\S+/)?.[0]
  if (!link) throw new Error(`no link in the mail to ${email}: ${JSON.stringify(mails)}`)
  const url = new URL(link)
  expect(`${url.origin}${url.pathname}`).toBe('http://localhost:3000/reset-password')
  return url.searchParams.get('token')!
}

async function requestResetLink(user: Pick<User, 'email'>): Promise<string> {
  await expect(anonymous().caller.auth.requestPasswordReset({ email: user.email })).resolves.toEqual({ status: 'sent' })
  return tokenFromLatestMail(user.email)
}

async function storedPasswordHash(userId: string): Promise<string | null> {
  return (await readUser(userId))!.passwordHash
}

async function tokenRows(userId: string) {
  return sql('SELECT token_hash AS tokenHash, purpose, email, used_at AS usedAt, expires_at AS expiresAt FROM one_time_tokens WHERE user_id = ?', [userId])
}

async function auditTypesFor(userId: string): Promise<string[]> {
  const rows = await sql('SELECT type FROM audit_events WHERE subject_user_id = ? ORDER BY id', [userId])
  return rows.map((row) => String(row.type))
}

describe('requesting a reset link (user enumeration)', () => {
  it('an unknown email gets the identical answer and headers, and no token, mail or audit row is written', async () => {
    const user = await createPasswordUser()
    const known = anonymous()
    const knownAnswer = await known.caller.auth.requestPasswordReset({ email: user.email })

    const before = await countRows()
    const unknown = anonymous()
    const unknownAnswer = await unknown.caller.auth.requestPasswordReset({ email: uniqueEmail('nobody') })

    expect(unknownAnswer).toEqual(knownAnswer)
    expect(unknownAnswer).toEqual({ status: 'sent' })
    expect([...unknown.responseHeaders.entries()]).toEqual([...known.responseHeaders.entries()])
    expect(await countRows()).toEqual(before)
  })

  it('an SSO-only account (no password) gets the same answer and no link; the request is audited', async () => {
    const user = await createPasswordUser({ passwordHash: null })
    await expect(anonymous().caller.auth.requestPasswordReset({ email: user.email })).resolves.toEqual({ status: 'sent' })
    expect(await tokenRows(user.id)).toEqual([])
    expect(await outboxFor(user.email)).toEqual([])
    expect(await auditTypesFor(user.id)).toEqual(['password.reset_requested'])
  })

  it('a disabled account gets the same answer and no link', async () => {
    const user = await createPasswordUser({ isDisabled: true })
    await expect(anonymous().caller.auth.requestPasswordReset({ email: user.email })).resolves.toEqual({ status: 'sent' })
    expect(await tokenRows(user.id)).toEqual([])
    expect(await outboxFor(user.email)).toEqual([])
  })

  it('timing: answers for known and unknown emails are both padded to the same floor', async () => {
    const user = await createPasswordUser()
    for (const email of [user.email, uniqueEmail('nobody')]) {
      const startedAt = performance.now()
      await anonymous().caller.auth.requestPasswordReset({ email })
      // A lower bound only (never an upper one): timers never fire early by more than rounding.
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(PASSWORD_RESET_REQUEST_MIN_RESPONSE_MS - 2)
    }
  })

  it('the email is normalised: a differently cased, padded address reaches the same account', async () => {
    const user = await createPasswordUser()
    await anonymous().caller.auth.requestPasswordReset({ email: `  ${user.email.toUpperCase()} ` })
    expect(await outboxFor(user.email)).toHaveLength(1)
  })
})

describe('the reset link', () => {
  it('the link from the mail sets the new password; the database holds only the token’s SHA-256', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)

    const [mail] = await outboxFor(user.email)
    expect(mail!.subject).toBe(`Reset your ${appConfig.appName} password`)
    const [row] = await tokenRows(user.id)
    expect(row).toMatchObject({ purpose: 'password_reset', email: user.email, usedAt: null })
    expect(row!.tokenHash).toBe(createHash('sha256').update(token).digest('hex'))
    expect(row!.tokenHash).not.toBe(token)
    // A dump of the table (what a leaked backup holds) contains no usable link.
    expect(JSON.stringify(await sql('SELECT * FROM one_time_tokens'))).not.toContain(token)
    expect((row!.expiresAt as Date).getTime() - Date.now()).toBeGreaterThan((PASSWORD_RESET_TOKEN_TTL_SECONDS - 60) * 1000)

    await expect(anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD })).resolves.toEqual({ status: 'password-reset' })
    const hash = await storedPasswordHash(user.id)
    expect(await verifyPassword(hash!, NEW_PASSWORD)).toBe(true)
    expect(await verifyPassword(hash!, OLD_PASSWORD)).toBe(false)
    await expect(anonymous().caller.auth.signIn({ email: user.email, password: NEW_PASSWORD })).resolves.toEqual({ status: 'signed-in' })
    await expectAppError(anonymous().caller.auth.signIn({ email: user.email, password: OLD_PASSWORD }), 'INVALID_CREDENTIALS')
    expect(await auditTypesFor(user.id)).toEqual(expect.arrayContaining(['password.reset_requested', 'password.reset_completed']))
  })

  it('opening the link proves the mailbox: an unverified email becomes verified', async () => {
    const user = await createPasswordUser()
    expect(user.emailVerifiedAt).toBeNull()
    const token = await requestResetLink(user)
    await anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD })
    expect((await readUser(user.id))!.emailVerifiedAt).toBeInstanceOf(Date)
  })

  it('session theft: every session of the user is revoked by the reset (old cookies → auth.me null)', async () => {
    const user = await createPasswordUser()
    const laptop = await signedInCaller(user, { ip: nextTestIp() })
    const phone = await signedInCaller(user, { ip: nextTestIp() })
    expect(await laptop.caller.auth.me()).not.toBeNull()
    expect(await phone.caller.auth.me()).not.toBeNull()

    const token = await requestResetLink(user)
    await anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD })

    expect(await callerWithResponse({ cookie: `gatehouse_session=${laptop.token}`, ip: nextTestIp() }).caller.auth.me()).toBeNull()
    expect(await callerWithResponse({ cookie: `gatehouse_session=${phone.token}`, ip: nextTestIp() }).caller.auth.me()).toBeNull()
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toEqual([])
  })

  it('the reset signs nobody in: no Set-Cookie and no new session row', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    const browser = anonymous()
    await browser.caller.auth.resetPassword({ token, password: NEW_PASSWORD })
    expect(browser.responseHeaders.getSetCookie()).toEqual([])
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toEqual([])
    expect(await browser.caller.auth.me()).toBeNull()
  })

  it('MFA bypass: after a reset an MFA user still faces the TOTP challenge (and may use the 8-character minimum)', async () => {
    const user = await createPasswordUser({ isMfaEnabled: true })
    const token = await requestResetLink(user)
    const shortButAllowedWithMfa = 'kq7#vWz2'
    await anonymous().caller.auth.resetPassword({ token, password: shortButAllowedWithMfa })
    await expect(anonymous().caller.auth.signIn({ email: user.email, password: shortButAllowedWithMfa })).resolves.toEqual({ status: 'mfa-required' })
  })

  it('replayed link: the second use is INVALID_TOKEN and the password stays the first reset’s', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    await anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD })
    const hashAfterFirst = await storedPasswordHash(user.id)
    const before = await countRows()

    await expectAppError(anonymous().caller.auth.resetPassword({ token, password: OTHER_PASSWORD }), 'INVALID_TOKEN')
    expect(await storedPasswordHash(user.id)).toBe(hashAfterFirst)
    expect(await countRows()).toEqual(before)
  })

  it('racing one link: of concurrent resets exactly one wins and its password is the one stored', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    const passwords = ['race one cobalt kettle 11', 'race two amber willow 22', 'race three silver fjord 33', 'race four copper dune 44']
    const results = await Promise.allSettled(passwords.map((password) => anonymous().caller.auth.resetPassword({ token, password })))

    const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [passwords[index]!] : []))
    expect(winners).toHaveLength(1)
    for (const result of results) {
      if (result.status === 'rejected') expect((result.reason as { cause?: { appCode?: string } }).cause?.appCode).toBe('INVALID_TOKEN')
    }
    const hash = await storedPasswordHash(user.id)
    for (const password of passwords) expect(await verifyPassword(hash!, password)).toBe(password === winners[0])
    expect(await auditTypesFor(user.id)).toEqual(['password.reset_requested', 'password.reset_completed'])
  })

  it('expired link: 30 minutes after the mail it is refused and changes nothing', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    advanceClockForTests(PASSWORD_RESET_TOKEN_TTL_SECONDS * 1000 + 1000)
    const before = await countRows()
    await expectAppError(anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD }), 'INVALID_TOKEN')
    expect(await storedPasswordHash(user.id)).toBe(oldPasswordHash)
    expect(await countRows()).toEqual(before)
  })

  it('a link is still good just before it expires', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    advanceClockForTests(PASSWORD_RESET_TOKEN_TTL_SECONDS * 1000 - 5000)
    await expect(anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD })).resolves.toEqual({ status: 'password-reset' })
  })

  it('a weak new password is refused (PASSWORD_POLICY) and the link stays usable', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    const before = await countRows()
    for (const weak of ['password', 'short', 'passwordpassword']) {
      await expectAppError(anonymous().caller.auth.resetPassword({ token, password: weak }), 'PASSWORD_POLICY')
    }
    expect(await countRows()).toEqual(before)
    expect((await tokenRows(user.id))[0]!.usedAt).toBeNull()
    expect(await storedPasswordHash(user.id)).toBe(oldPasswordHash)
    await expect(anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD })).resolves.toEqual({ status: 'password-reset' })
  })

  it('a newer request invalidates the older link', async () => {
    const user = await createPasswordUser()
    const older = await requestResetLink(user)
    const newer = await requestResetLink(user)
    expect(newer).not.toBe(older)
    expect(await tokenRows(user.id)).toHaveLength(1)
    await expectAppError(anonymous().caller.auth.resetPassword({ token: older, password: NEW_PASSWORD }), 'INVALID_TOKEN')
    await expect(anonymous().caller.auth.resetPassword({ token: newer, password: NEW_PASSWORD })).resolves.toEqual({ status: 'password-reset' })
  })

  it('a link mailed to a former address does nothing once the account’s email changed', async () => {
    const user = await createPasswordUser()
    const token = await requestResetLink(user)
    await sql('UPDATE users SET email = ? WHERE id = ?', [uniqueEmail('moved'), user.id])
    const before = await countRows()
    await expectAppError(anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD }), 'INVALID_TOKEN')
    expect(await storedPasswordHash(user.id)).toBe(oldPasswordHash)
    expect(await countRows()).toEqual(before)
  })

  it('forged, truncated or foreign-purpose tokens are INVALID_TOKEN and write nothing', async () => {
    const user = await createPasswordUser()
    const resetToken = await requestResetLink(user)
    // A verification link (another purpose) must not reset a password.
    const signedIn = await signedInCaller(user, { ip: nextTestIp() })
    await signedIn.caller.auth.resendVerificationEmail()
    const verificationLink = String((await outboxFor(user.email)).at(-1)!.text).match(/https?:\/\/\S+/)![0]
    const verificationToken = new URL(verificationLink).searchParams.get('token')!

    const before = await countRows()
    const forged = Buffer.alloc(32, 7).toString('base64url')
    for (const token of ['', 'x', resetToken.slice(0, -1), `${resetToken}x`, forged, verificationToken, createHash('sha256').update(resetToken).digest('hex')]) {
      await expectAppError(anonymous().caller.auth.resetPassword({ token, password: NEW_PASSWORD }), 'INVALID_TOKEN')
    }
    expect(await countRows()).toEqual(before)
    expect(await storedPasswordHash(user.id)).toBe(oldPasswordHash)
  })
})

describe('rate limits', () => {
  it('reset requests per account: the 4th within the hour is RATE_LIMITED with Retry-After, even from new addresses, and sends nothing', async () => {
    const user = await createPasswordUser()
    const { limit } = appConfig.rateLimits.passwordResetPerAccount
    for (let i = 0; i < limit; i++) await anonymous().caller.auth.requestPasswordReset({ email: user.email })
    expect(await outboxFor(user.email)).toHaveLength(limit)

    const before = await countRows()
    const blocked = anonymous()
    await expectAppError(blocked.caller.auth.requestPasswordReset({ email: user.email }), 'RATE_LIMITED')
    expect(Number(blocked.responseHeaders.get('retry-after'))).toBeGreaterThan(0)
    expect(await countRows()).toEqual(before)
  })

  it('per-account limits apply to unknown emails alike (a 429 does not reveal an account)', async () => {
    const email = uniqueEmail('ghost')
    const { limit } = appConfig.rateLimits.passwordResetPerAccount
    for (let i = 0; i < limit; i++) await anonymous().caller.auth.requestPasswordReset({ email })
    await expectAppError(anonymous().caller.auth.requestPasswordReset({ email }), 'RATE_LIMITED')
  })

  it('reset requests per IP: one address asking for many emails is RATE_LIMITED after the configured count', async () => {
    const ip = nextTestIp()
    const { limit } = appConfig.rateLimits.passwordResetPerIp
    for (let i = 0; i < limit; i++) await anonymous(ip).caller.auth.requestPasswordReset({ email: uniqueEmail('spray') })
    const user = await createPasswordUser()
    await expectAppError(anonymous(ip).caller.auth.requestPasswordReset({ email: user.email }), 'RATE_LIMITED')
    expect(await outboxFor(user.email)).toEqual([])
  })
})

describe('per-IP limits and IPv6 (one host holds a whole /64)', () => {
  const { limit } = appConfig.rateLimits.passwordResetPerIp
  /** A /64 of the documentation prefix no other test uses: `2001:db8:xxxx:yyyy::`. */
  // Groups of four hex digits without a leading zero, so the prefix is spelled as the bucket key
  // spells it (`0d09` is `d09` there: a random leading zero made this test fail one run in ~8).
  const randomGroup = () => (randomBytes(2).readUInt16BE() | 0x1000).toString(16)
  const randomPrefix = () => `2001:db8:${randomGroup()}:${randomGroup()}`

  it('reset spraying from one host rotating through its IPv6 /64 is RATE_LIMITED after the configured count, and mails nothing', async () => {
    const prefix = randomPrefix()
    // Every attempt from a fresh address of the same /64, in the spellings a client could send.
    for (let i = 0; i < limit; i++) await anonymous(`${prefix}:0:0:0:${(i + 1).toString(16)}`).caller.auth.requestPasswordReset({ email: uniqueEmail('spray6') })
    const user = await createPasswordUser()
    const before = await countRows()
    const refused = anonymous(`${prefix.toUpperCase()}:ffff:ffff:ffff:fffe`)
    await expectAppError(refused.caller.auth.requestPasswordReset({ email: user.email }), 'RATE_LIMITED')
    expect(Number(refused.responseHeaders.get('retry-after'))).toBeGreaterThan(0)
    expect(await outboxFor(user.email)).toEqual([])
    expect(await countRows()).toEqual(before)
    // One bucket for the /64, no key for any single address of it.
    const keys = (await sql("SELECT `key` FROM rate_limit_buckets WHERE `key` LIKE ?", [`passwordResetPerIp:${prefix}%`])).map((row) => String(row.key))
    expect(keys).toEqual([`passwordResetPerIp:${prefix}::/64`])
  })

  it('the other side: the neighbouring /64 keeps its own budget', async () => {
    const prefix = randomPrefix()
    for (let i = 0; i < limit; i++) await anonymous(`${prefix}::${i + 1}`).caller.auth.requestPasswordReset({ email: uniqueEmail('spray6') })
    const neighbour = `${prefix.slice(0, prefix.lastIndexOf(':'))}:${(parseInt(prefix.slice(prefix.lastIndexOf(':') + 1), 16) ^ 1).toString(16)}`
    const user = await createPasswordUser()
    await anonymous(`${neighbour}::1`).caller.auth.requestPasswordReset({ email: user.email })
    expect(await outboxFor(user.email)).toHaveLength(1)
  })

  it('an IPv4-mapped IPv6 address spends the budget of the IPv4 address it carries', async () => {
    const ip = nextTestIp()
    for (let i = 0; i < limit; i++) await anonymous(i % 2 === 0 ? ip : `::ffff:${ip}`).caller.auth.requestPasswordReset({ email: uniqueEmail('mapped') })
    await expectAppError(anonymous(`::ffff:${ip}`).caller.auth.requestPasswordReset({ email: uniqueEmail('mapped') }), 'RATE_LIMITED')
  })

  it('sessions and audit rows keep the full IPv6 address; only the budget is per /64', async () => {
    const user = await createPasswordUser()
    const address = `${randomPrefix()}::abcd`
    await anonymous(address).caller.auth.requestPasswordReset({ email: user.email })
    const [event] = await sql("SELECT ip FROM audit_events WHERE subject_user_id = ? AND type = 'password.reset_requested'", [user.id])
    expect(event?.ip).toBe(address)
  })
})

describe('input', () => {
  it('unknown keys and malformed emails are refused before anything happens', async () => {
    const before = await countRows()
    // @ts-expect-error: the attack sends a key the schema does not know
    await expect(anonymous().caller.auth.requestPasswordReset({ email: uniqueEmail(), userId: 'x' })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(anonymous().caller.auth.requestPasswordReset({ email: 'not-an-email' })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(anonymous().caller.auth.resetPassword({ token: 'a'.repeat(129), password: NEW_PASSWORD })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    expect(await countRows()).toEqual(before)
  })
})
