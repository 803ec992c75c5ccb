import { domainToASCII, domainToUnicode as nodeDomainToUnicode } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodePunycode, domainToUnicode, formatEmailForDisplay } from './email-display'

// Checked against an independent implementation: Node's WHATWG URL (the client cannot use it).
const DOMAINS = ['bücher.example', 'münchen.de', '例え.テスト', 'ñandú.com', 'faß.de', 'россия.рф', 'παράδειγμα.δοκιμή', '💩.la', 'example.test']

describe('email display', () => {
  it.each(DOMAINS)('shows %s in Unicode, as Node decodes it', (domain) => {
    const ascii = domainToASCII(domain)
    expect(domainToUnicode(ascii)).toBe(nodeDomainToUnicode(ascii))
  })

  it('decodes the RFC 3492 §7.1 sample (Arabic)', () => {
    expect(decodePunycode('egbpdaj6bu4bxfgehfvwxn')).toBe('ليهمابتكلموشعربي؟')
  })

  it('leaves an address with an ASCII domain unchanged', () => {
    expect(formatEmailForDisplay('ada@example.test')).toBe('ada@example.test')
  })

  it('shows the domain of an address in Unicode', () => {
    expect(formatEmailForDisplay('anna@xn--bcher-kva.example')).toBe('anna@bücher.example')
  })

  it('keeps a label that is not valid punycode as it is, rather than showing something wrong', () => {
    expect(domainToUnicode('xn--a!b.example')).toBe('xn--a!b.example')
    expect(domainToUnicode('xn--99999999999.example')).toBe('xn--99999999999.example')
    expect(formatEmailForDisplay('not-an-email')).toBe('not-an-email')
  })
})
