import { describe, expect, it } from 'vitest'
import { getClientIp, rateLimitSubjectForIp } from './client-ip'

function requestFrom(socketIp: string | undefined, forwardedFor?: string): Request {
  const request = new Request('http://app.test/', { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} })
  if (socketIp) Object.defineProperty(request, 'ip', { value: socketIp })
  return request
}

describe('getClientIp', () => {
  it('uses the socket address when no proxy is trusted, ignoring a spoofed X-Forwarded-For', () => {
    expect(getClientIp(requestFrom('198.51.100.4', '1.2.3.4'), 0)).toBe('198.51.100.4')
  })

  it('takes the entry our one trusted proxy appended, not the left-most one the client sent', () => {
    // Attacker sends "X-Forwarded-For: 1.2.3.4"; the proxy appends the real client 203.0.113.9.
    expect(getClientIp(requestFrom('10.0.0.2', '1.2.3.4, 203.0.113.9'), 1)).toBe('203.0.113.9')
  })

  it('peels exactly N hops for N trusted proxies', () => {
    expect(getClientIp(requestFrom('10.0.0.3', '1.2.3.4, 203.0.113.9, 10.0.0.2'), 2)).toBe('203.0.113.9')
  })

  it('normalises IPv4-mapped IPv6 addresses', () => {
    expect(getClientIp(requestFrom('::ffff:192.0.2.1'), 0)).toBe('192.0.2.1')
  })

  it('falls back to "unknown" for in-process calls without a socket', () => {
    expect(getClientIp(requestFrom(undefined), 0)).toBe('unknown')
  })
})

describe('rateLimitSubjectForIp (per-IP budgets: one host holds a whole IPv6 /64)', () => {
  it('an IPv4 address is its own subject', () => {
    expect(rateLimitSubjectForIp('203.0.113.9')).toBe('203.0.113.9')
    expect(rateLimitSubjectForIp(' 203.0.113.9 ')).toBe('203.0.113.9')
  })

  it('every address of one IPv6 /64 shares one subject, whatever its spelling (rotating through a /64 buys no budget)', () => {
    const spellings = [
      '2001:db8:1234:5678::1',
      '2001:db8:1234:5678::ffff',
      '2001:db8:1234:5678:a:b:c:d',
      '2001:0DB8:1234:5678:0000:0000:0000:0001',
      '2001:db8:1234:5678:0:0:0:1',
      '2001:db8:1234:5678::',
      '2001:db8:1234:5678:ffff:ffff:ffff:ffff',
      '2001:db8:1234:5678::1.2.3.4',
    ]
    expect(new Set(spellings.map(rateLimitSubjectForIp))).toEqual(new Set(['2001:db8:1234:5678::/64']))
  })

  it('neighbouring /64s are different subjects', () => {
    expect(rateLimitSubjectForIp('2001:db8:1234:5679::1')).toBe('2001:db8:1234:5679::/64')
    expect(rateLimitSubjectForIp('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(rateLimitSubjectForIp('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64')
  })

  it('drops a zone id (fe80::1%eth0) and brackets or a port a proxy may add', () => {
    expect(rateLimitSubjectForIp('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(rateLimitSubjectForIp('fe80::2%25')).toBe('fe80:0:0:0::/64')
    expect(rateLimitSubjectForIp('[2001:db8:1234:5678::9]')).toBe('2001:db8:1234:5678::/64')
    expect(rateLimitSubjectForIp('[2001:db8:1234:5678::9]:443')).toBe('2001:db8:1234:5678::/64')
    expect(rateLimitSubjectForIp('203.0.113.9:51234')).toBe('203.0.113.9')
  })

  it('an IPv4-mapped IPv6 address is the IPv4 address it carries, in any spelling', () => {
    for (const mapped of ['::ffff:192.0.2.1', '::FFFF:192.0.2.1', '0:0:0:0:0:ffff:192.0.2.1', '::ffff:c000:201', '[::ffff:192.0.2.1]:80']) {
      expect(rateLimitSubjectForIp(mapped)).toBe('192.0.2.1')
    }
  })

  it('IPv4 clients behind NAT64 or SIIT are each their own IPv4 address, not one shared /64 (found by review)', () => {
    expect(rateLimitSubjectForIp('64:ff9b::192.0.2.1')).toBe('192.0.2.1')
    expect(rateLimitSubjectForIp('64:ff9b::c633:6407')).toBe('198.51.100.7')
    expect(rateLimitSubjectForIp('::ffff:0:198.51.100.7')).toBe('198.51.100.7')
    // Only the well-known prefix: a network-specific NAT64 prefix is an operator's to configure.
    expect(rateLimitSubjectForIp('64:ff9b:1::c000:201')).toBe('64:ff9b:1:0::/64')
  })

  it('anything that is not an IP address shares one subject (no spelling of a bad value buys a fresh budget)', () => {
    for (const invalid of ['unknown', '', 'not an ip', '1.2.3', '256.1.1.1', '2001:db8::g', '2001:db8:1::2::3', '1.2.3.4.5', '::ffff:1.2.3']) {
      expect(rateLimitSubjectForIp(invalid)).toBe('unknown')
    }
  })
})
