import { describe, expect, it } from 'vitest'
import { applySecurityHeaders, buildContentSecurityPolicy } from './security-headers'

function directives(policy: string): Map<string, string> {
  return new Map(policy.split(';').map((part) => {
    const [name, ...values] = part.trim().split(/\s+/)
    return [name!, values.join(' ')]
  }))
}

describe('Content-Security-Policy', () => {
  it('production: no framing (clickjacking), no eval, no plugins, forms post only to us', () => {
    const csp = directives(buildContentSecurityPolicy({ isDevelopment: false }))
    expect(csp.get('frame-ancestors')).toBe("'none'")
    expect(csp.get('default-src')).toBe("'self'")
    expect(csp.get('object-src')).toBe("'none'")
    expect(csp.get('base-uri')).toBe("'none'")
    expect(csp.get('form-action')).toBe("'self'")
    expect(csp.get('connect-src')).toBe("'self'")
    expect(csp.get('script-src')).not.toContain("'unsafe-eval'")
  })

  it('production: inline scripts run only with the response nonce; without one, none do', () => {
    const withNonce = directives(buildContentSecurityPolicy({ isDevelopment: false, nonce: 'abc123==' }))
    expect(withNonce.get('script-src')).toBe("'self' 'nonce-abc123=='")
    const withoutNonce = directives(buildContentSecurityPolicy({ isDevelopment: false }))
    expect(withoutNonce.get('script-src')).toBe("'self'")
  })

  it('development additionally allows what Vite HMR needs (eval, websockets)', () => {
    const csp = directives(buildContentSecurityPolicy({ isDevelopment: true }))
    expect(csp.get('script-src')).toContain("'unsafe-eval'")
    expect(csp.get('connect-src')).toContain('ws:')
    expect(csp.get('frame-ancestors')).toBe("'none'")
  })
})

describe('applySecurityHeaders', () => {
  it('sets the baseline headers; HSTS only over https', () => {
    const http = new Headers()
    applySecurityHeaders(http, { isDevelopment: false, isHttps: false })
    expect(http.get('x-content-type-options')).toBe('nosniff')
    expect(http.get('referrer-policy')).toBe('strict-origin-when-cross-origin')
    expect(http.get('x-frame-options')).toBe('DENY')
    expect(http.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(http.has('strict-transport-security')).toBe(false)

    const https = new Headers()
    applySecurityHeaders(https, { isDevelopment: false, isHttps: true })
    expect(https.get('strict-transport-security')).toMatch(/^max-age=\d{8,}; includeSubDomains$/)
  })

  it("keeps a header a handler chose (e.g. a route's own CSP)", () => {
    const headers = new Headers({ 'content-security-policy': "default-src 'none'", 'referrer-policy': 'no-referrer' })
    applySecurityHeaders(headers, { isDevelopment: false, isHttps: true })
    expect(headers.get('content-security-policy')).toBe("default-src 'none'")
    expect(headers.get('referrer-policy')).toBe('no-referrer')
  })
})
