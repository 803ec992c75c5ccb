import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { EnvError, parseServerEnv } from './env'

const production = {
  NODE_ENV: 'production',
  APP_SECRET: randomBytes(32).toString('base64url'),
  APP_URL: 'https://auth.example.com',
  DATABASE_URL: 'mysql://gatehouse@db:3306/gatehouse',
}

describe('MAIL_TRANSPORT', () => {
  it('defaults to the outbox in development and test', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(parseServerEnv({ NODE_ENV, APP_SECRET: production.APP_SECRET }).mailTransport).toBe('outbox')
    }
  })

  it('defaults to smtp in production and then refuses to start without SMTP_URL, saying what to set', () => {
    expect(() => parseServerEnv(production)).toThrow(EnvError)
    expect(() => parseServerEnv(production)).toThrow(/SMTP_URL is required when MAIL_TRANSPORT=smtp/)
    expect(parseServerEnv({ ...production, SMTP_URL: 'smtps://u:p@smtp.example.com:465' })).toMatchObject({
      mailTransport: 'smtp',
      smtpUrl: 'smtps://u:p@smtp.example.com:465',
    })
  })

  it('an explicit outbox is accepted in production (tests and demos) without SMTP_URL', () => {
    expect(parseServerEnv({ ...production, MAIL_TRANSPORT: 'outbox' }).mailTransport).toBe('outbox')
  })

  it('an explicit smtp in development also needs SMTP_URL', () => {
    expect(() => parseServerEnv({ NODE_ENV: 'development', APP_SECRET: production.APP_SECRET, MAIL_TRANSPORT: 'smtp' })).toThrow(/SMTP_URL/)
  })

  it('an empty value means unset (docker compose passes empty variables); anything else is refused by name', () => {
    expect(parseServerEnv({ NODE_ENV: 'test', APP_SECRET: production.APP_SECRET, MAIL_TRANSPORT: '' }).mailTransport).toBe('outbox')
    expect(() => parseServerEnv({ NODE_ENV: 'test', APP_SECRET: production.APP_SECRET, MAIL_TRANSPORT: 'sendmail' })).toThrow(/MAIL_TRANSPORT: must be smtp or outbox/)
  })
})
