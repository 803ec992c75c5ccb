import { describe, expect, it } from 'vitest'
import { buildTokenLink, emailVerificationMail, passwordResetMail } from './account-mail'

const TOKEN = 'AbC-_0123456789abcdefghijklmnopqrstuvwxyzAB'

describe('token links', () => {
  it('point at the app origin and carry the token as the only query parameter', () => {
    const link = buildTokenLink(new URL('https://auth.example.com'), '/reset-password', TOKEN)
    expect(link).toBe(`https://auth.example.com/reset-password?token=${TOKEN}`)
    expect(new URL(link).searchParams.get('token')).toBe(TOKEN)
  })

  it('keep a non-default port (local production runs)', () => {
    expect(buildTokenLink(new URL('http://127.0.0.1:4123'), '/verify-email', TOKEN)).toBe(`http://127.0.0.1:4123/verify-email?token=${TOKEN}`)
  })
})

describe('account mails', () => {
  it('the reset mail names the address, the link and its lifetime, and tells what to do if unrequested', () => {
    const mail = passwordResetMail({ appName: 'Gatehouse', to: 'ada@example.com', link: 'https://a.example/reset-password?token=x', ttlSeconds: 1800 })
    expect(mail.to).toBe('ada@example.com')
    expect(mail.subject).toBe('Reset your Gatehouse password')
    expect(mail.text).toContain('https://a.example/reset-password?token=x')
    expect(mail.text).toContain('within 30 minutes')
    expect(mail.text).toMatch(/did not ask for this/)
  })

  it('the verification mail states its lifetime in hours', () => {
    const mail = emailVerificationMail({ appName: 'Gatehouse', to: 'ada@example.com', link: 'https://a.example/verify-email?token=x', ttlSeconds: 86400 })
    expect(mail.subject).toBe('Confirm your email for Gatehouse')
    expect(mail.text).toContain('within 24 hours')
    expect(mail.text).toContain('https://a.example/verify-email?token=x')
  })

  it('content spoofing: nothing user-typed (like a display name) can reach the mail, only address and link', () => {
    // The builders take no name at all: a sign-up under a stranger's address cannot put words in their inbox.
    const mail = emailVerificationMail({ appName: 'Gatehouse', to: 'victim@example.com', link: 'https://a.example/verify-email?token=x', ttlSeconds: 86400 })
    expect(Object.keys(mail).sort()).toEqual(['subject', 'text', 'to'])
    expect(mail.text.split('\n').filter((line) => line.includes('http'))).toEqual(['https://a.example/verify-email?token=x'])
  })
})
