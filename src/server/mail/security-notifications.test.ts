import { describe, expect, it } from 'vitest'
import { describeClientIp, describeUserAgent, securityNotificationMail, type SecurityEvent } from './security-notifications'

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'

const EVERY_EVENT: SecurityEvent[] = [
  { kind: 'password-changed' },
  { kind: 'password-reset' },
  { kind: 'mfa-enabled' },
  { kind: 'mfa-disabled' },
  { kind: 'mfa-reset-by-admin' },
  { kind: 'recovery-code-used', remaining: 7 },
  { kind: 'recovery-codes-regenerated' },
  { kind: 'account-disabled-by-admin' },
  { kind: 'account-enabled-by-admin' },
  { kind: 'new-device-sign-in' },
  { kind: 'mfa-locked', failures: 100 },
]

function mailFor(event: SecurityEvent, overrides: { clientIp?: string | null; userAgent?: string | null } = {}) {
  return securityNotificationMail({
    appName: 'Gatehouse',
    appUrl: new URL('https://auth.example.com'),
    to: 'owner@example.com',
    event,
    occurredAt: new Date('2026-11-30T05:13:42.000Z'),
    clientIp: overrides.clientIp === undefined ? '203.0.113.7' : overrides.clientIp,
    userAgent: overrides.userAgent === undefined ? FIREFOX_LINUX : overrides.userAgent,
  })
}

describe('security notification mails (ASVS 6.3.7)', () => {
  it.each(EVERY_EVENT.map((event) => [event.kind, event] as const))('%s: says what happened, when, from where, and what to do if it was not you', (_kind, event) => {
    const mail = mailFor(event)
    expect(mail.to).toBe('owner@example.com')
    expect(mail.subject).toMatch(/Gatehouse/)
    for (const part of [mail.text, mail.html!]) {
      expect(part).toContain('2026-11-30 05:13 UTC')
      expect(part).toContain('203.0.113.7')
      expect(part).toContain('Firefox on Linux')
      expect(part).toMatch(/If (you did not|it was not you|you think this is a mistake|you did not expect this)/)
    }
    expect(mail.html).toMatch(/^<!doctype html>/)
  })

  it('no mail carries a secret: no token, code or link with a query string; only plain app paths', () => {
    for (const event of EVERY_EVENT) {
      const mail = mailFor(event)
      for (const part of [mail.text, mail.html!]) {
        expect(part).not.toMatch(/[?&](token|code)=/i)
        expect(part).not.toMatch(/\b\d{6}\b/) // nothing shaped like a TOTP code
        expect(part).not.toMatch(/\b[0-9a-z]{4}(?:-[0-9a-z]{4}){5}\b/) // nor a recovery code
        const links = part.match(/https?:\/\/[^\s"<]+/g) ?? []
        for (const link of links) expect(['https://auth.example.com/forgot-password', 'https://auth.example.com/settings/security']).toContain(link)
      }
    }
  })

  it('a used recovery code reports how many remain (and the singular)', () => {
    expect(mailFor({ kind: 'recovery-code-used', remaining: 7 }).text).toContain('7 recovery codes remain')
    expect(mailFor({ kind: 'recovery-code-used', remaining: 1 }).text).toContain('1 recovery code remains')
  })

  it('content spoofing: a crafted user agent is never echoed, only a browser name from a fixed list', () => {
    const crafted = 'Your account is locked. Call +1 555 0100 <script>alert(1)</script> Firefox/1'
    const mail = mailFor({ kind: 'password-changed' }, { userAgent: crafted })
    expect(mail.text).not.toContain('Call +1')
    expect(mail.html).not.toContain('Call +1')
    expect(mail.html).not.toContain('<script>')
    expect(mail.text).toContain('Firefox')
  })

  it('an address that is not an IP is not printed', () => {
    expect(describeClientIp('unknown')).toBe('an unknown address')
    expect(describeClientIp('1.2.3.4 <b>phish</b>')).toBe('an unknown address')
    expect(describeClientIp('2001:db8::1')).toBe('2001:db8::1')
    expect(describeClientIp(null)).toBe('an unknown address')
  })

  it('names common browsers and systems', () => {
    expect(describeUserAgent(CHROME_WINDOWS)).toBe('Chrome on Windows')
    expect(describeUserAgent(SAFARI_IPHONE)).toBe('Safari on iOS')
    expect(describeUserAgent(FIREFOX_LINUX)).toBe('Firefox on Linux')
    expect(describeUserAgent(null)).toBe('an unknown browser')
    expect(describeUserAgent('something else')).toBe('an unknown browser')
  })
})
