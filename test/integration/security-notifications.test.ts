/**
 * Security notifications (OWASP ASVS 5.0 6.3.7) reach the outbox for the actions wired so far —
 * password reset completed, MFA reset by an admin, account disabled / enabled by an admin — with
 * the facts (what, when, from which address and browser) and without any secret; and a mail that
 * cannot be sent never fails the action: it is logged and audited as `mail.notification_failed`.
 */
import { describe, expect, it } from 'vitest'
import { notifySecurityEvent } from '../../src/server/mail/security-notifications'
import { getDb } from '../../src/server/db/client'
import { callerWithResponse } from '../support/caller'
import { createTestOrganization, createTestUser, nextTestIp, signedInCaller, sql } from '../support/auth-fixtures'
import { createMfaTestUser } from '../support/mfa-fixtures'
import { expectConsoleErrors } from '../setup/worker'

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15'

async function mailsTo(email: string) {
  return sql('SELECT subject, text_body AS text FROM mail_outbox WHERE to_address = ? ORDER BY created_at, id', [email])
}

function expectNoSecret(text: string): void {
  expect(text).not.toMatch(/[?&](token|code)=/i)
  expect(text).not.toMatch(/\b\d{6}\b/)
}

describe('security notifications in the outbox', () => {
  it('password reset completed: the owner is told when, from which address and browser, and what to do', async () => {
    const { user } = await createTestUser()
    const ip = nextTestIp()
    const anonymous = callerWithResponse({ ip, headers: { 'user-agent': BROWSER } }).caller
    await anonymous.auth.requestPasswordReset({ email: user.email })
    const [resetMail] = await mailsTo(user.email)
    const token = new URL(String(resetMail!.text).match(/https?:\/\/\S+/)![0]).searchParams.get('token')!

    await anonymous.auth.resetPassword({ token, password: 'violet lantern harbour meadow 77' })

    const mails = await mailsTo(user.email)
    expect(mails).toHaveLength(2)
    const notice = mails[1]!
    expect(notice.subject).toBe('Your Gatehouse password was reset')
    const text = String(notice.text)
    expect(text).toContain(`From: ${ip}, Safari on macOS`)
    expect(text).toMatch(/When: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/)
    expect(text).toContain('/forgot-password')
    expect(text).not.toContain(token)
    expectNoSecret(text)
  })

  it('an admin resets a member’s MFA, disables and re-enables the account: one mail each, none with a secret', async () => {
    const organization = await createTestOrganization({ name: 'Notified Org' })
    const { user: admin } = await createTestUser({ role: 'admin', organizationId: organization.id })
    const { user: member } = await createMfaTestUser({ role: 'member', organizationId: organization.id })
    const { caller } = await signedInCaller(admin, { ip: nextTestIp(), headers: { 'user-agent': BROWSER } })

    await caller.admin.users.resetMfa({ userId: member.id })
    await caller.admin.users.setDisabled({ userId: member.id, isDisabled: true })
    await caller.admin.users.setDisabled({ userId: member.id, isDisabled: false })

    const mails = await mailsTo(member.email)
    expect(mails.map((mail) => mail.subject)).toEqual([
      'An administrator reset two-factor authentication for your Gatehouse account',
      'Your Gatehouse account was disabled',
      'Your Gatehouse account was enabled',
    ])
    for (const mail of mails) {
      expect(String(mail.text)).toContain('Safari on macOS')
      expectNoSecret(String(mail.text))
    }
    // The admin is not mailed about the member's account.
    expect(await mailsTo(admin.email)).toEqual([])
  })

  it('a mail that cannot be sent does not fail the action: it is logged and audited as mail.notification_failed', async () => {
    const { user } = await createTestUser()
    expectConsoleErrors(1)
    const failingSend = async () => {
      throw new Error('relay refused the connection')
    }
    await expect(
      notifySecurityEvent({ db: getDb(), now: new Date(), clientIp: '198.51.100.4', userAgent: BROWSER }, user, { kind: 'password-changed' }, { send: failingSend }),
    ).resolves.toBeUndefined()
    const [event] = await sql('SELECT type, details, ip FROM audit_events WHERE subject_user_id = ? ORDER BY id DESC LIMIT 1', [user.id])
    expect(event).toMatchObject({ type: 'mail.notification_failed', ip: '198.51.100.4' })
    expect(typeof event!.details === 'string' ? JSON.parse(event!.details) : event!.details).toEqual({ kind: 'password-changed' })
    expect(await mailsTo(user.email)).toEqual([])
  })
})
