import { describe, expect, it } from 'vitest'
import { getClientIp } from './client-ip'

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
