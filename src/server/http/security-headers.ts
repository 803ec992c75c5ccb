/**
 * Server-only: headers every response carries (OWASP ASVS 14.4). Pure, so the policy is unit-tested.
 */

const policyCache = new Map<boolean, string>()

/**
 * The Content-Security-Policy. Start's SSR hydration scripts are inline, so `script-src` allows
 * 'unsafe-inline' (a per-request nonce is the planned hardening); development adds 'unsafe-eval'
 * and websocket connections for Vite's hot reload.
 */
export function buildContentSecurityPolicy(options: { isDevelopment: boolean }): string {
  // Built once per mode: it is the same string on every response.
  const cached = policyCache.get(options.isDevelopment)
  if (cached) return cached
  const scriptSrc = options.isDevelopment ? "'self' 'unsafe-inline' 'unsafe-eval'" : "'self' 'unsafe-inline'"
  const policy = [
    "default-src 'self'",
    `script-src ${scriptSrc}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    options.isDevelopment ? "connect-src 'self' ws: wss:" : "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    // Clickjacking defence: no one may frame Gatehouse (also blocks UI-redress on the MFA pages).
    "frame-ancestors 'none'",
    // Forms may post only to us; the SAML HTTP-POST binding is the IdP posting to us, unaffected.
    "form-action 'self'",
  ].join('; ')
  policyCache.set(options.isDevelopment, policy)
  return policy
}

/** Adds the baseline headers to a response's headers without overwriting what a handler chose. */
export function applySecurityHeaders(headers: Headers, options: { isDevelopment: boolean; isHttps: boolean }): void {
  const set = (name: string, value: string) => {
    if (!headers.has(name)) headers.set(name, value)
  }
  set('content-security-policy', buildContentSecurityPolicy(options))
  set('x-content-type-options', 'nosniff')
  set('referrer-policy', 'strict-origin-when-cross-origin')
  set('x-frame-options', 'DENY')
  set('cross-origin-opener-policy', 'same-origin')
  set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()')
  if (options.isHttps) set('strict-transport-security', 'max-age=63072000; includeSubDomains')
}
