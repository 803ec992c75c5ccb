import { describe, expect, it } from 'vitest'
import { getEmailDomain, normalizeDomainName } from './domain-name'

describe('normalizeDomainName', () => {
  it.each([
    ['acme.com', 'acme.com'],
    ['  Acme.COM. ', 'acme.com'],
    ['eu.acme.com', 'eu.acme.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['XN--BCHER-KVA.example', 'xn--bcher-kva.example'],
    ['a-b.c0.test', 'a-b.c0.test'],
  ])('%s → %s', (input, domain) => {
    expect(normalizeDomainName(input)).toEqual({ domain })
  })

  it.each([
    ['', 'empty'],
    ['.', 'empty'],
    ['localhost', 'single_label'],
    ['127.0.0.1', 'ip_address'],
    ['[::1]', 'ip_address'],
    ['1.2.3.4.', 'ip_address'],
    ['https://acme.com', 'invalid'],
    ['acme.com/path', 'invalid'],
    ['acme.com:443', 'invalid'],
    ['*.acme.com', 'invalid'],
    ['user@acme.com', 'invalid'],
    ['-acme.com', 'invalid'],
    ['acme-.com', 'invalid'],
    ['ac_me.com', 'invalid'],
    ['acme..com', 'invalid'],
    [`${'a'.repeat(64)}.com`, 'invalid'],
    [`${Array(5).fill('a'.repeat(60)).join('.')}.com`, 'too_long'],
  ])('refuses %j (%s)', (input, problem) => {
    expect(normalizeDomainName(input)).toEqual({ problem })
  })

  it('takes the domain of an email address', () => {
    expect(getEmailDomain('jane@Acme.com')).toBe('acme.com')
    expect(getEmailDomain('no-at-sign')).toBeNull()
  })
})
