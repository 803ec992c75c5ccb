import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EnvError, parseServerEnv } from './env'

const production = {
  NODE_ENV: 'production',
  APP_SECRET: randomBytes(32).toString('base64url'),
  APP_URL: 'https://auth.example.com',
  DATABASE_URL: 'mysql://gatehouse@db:3306/gatehouse',
  MAIL_TRANSPORT: 'outbox',
}

describe('SSO_ALLOWED_PRIVATE_HOSTS', () => {
  it('is empty by default in production: every issuer must be a public https host', () => {
    expect(parseServerEnv(production).ssoAllowedPrivateHosts).toEqual([])
  })

  it('lists the loopback names by default in development and test (the local IdP)', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(parseServerEnv({ NODE_ENV, APP_SECRET: production.APP_SECRET }).ssoAllowedPrivateHosts).toEqual(['127.0.0.1', 'localhost'])
    }
  })

  it('takes an explicit comma-separated list, lower-cased, IPv6 brackets removed; empty means none', () => {
    expect(parseServerEnv({ ...production, SSO_ALLOWED_PRIVATE_HOSTS: ' IdP.corp.example , [::1],10.0.0.5 ' }).ssoAllowedPrivateHosts).toEqual(['idp.corp.example', '::1', '10.0.0.5'])
    expect(parseServerEnv({ NODE_ENV: 'development', APP_SECRET: production.APP_SECRET, SSO_ALLOWED_PRIVATE_HOSTS: '' }).ssoAllowedPrivateHosts).toEqual([])
  })
})

describe('DNS_SERVERS', () => {
  it('defaults to the system resolver (empty list)', () => {
    expect(parseServerEnv(production).dnsServers).toEqual([])
  })

  it('accepts IP addresses with optional ports', () => {
    expect(parseServerEnv({ ...production, DNS_SERVERS: '127.0.0.1:5353, 1.1.1.1,[::1]:53,2606:4700:4700::1111' }).dnsServers).toEqual(['127.0.0.1:5353', '1.1.1.1', '[::1]:53', '2606:4700:4700::1111'])
  })

  it.each(['dns.example.com', '127.0.0.1:99999', '1.2.3'])('refuses %s, saying what to set', (value) => {
    expect(() => parseServerEnv({ ...production, DNS_SERVERS: value })).toThrow(EnvError)
    expect(() => parseServerEnv({ ...production, DNS_SERVERS: value })).toThrow(/DNS_SERVERS: .* is not an IP address/)
  })
})
