/**
 * Server-only: headers every response carries (OWASP ASVS 14.4). Pure, so the policy is unit-tested.
 */

const policyCache = new Map<string, string>()

type PolicyOptions = { isDevelopment: boolean; nonce?: string }

/**
 * The Content-Security-Policy. In production, scripts run only from our origin or inline with this
 * response's nonce (the router stamps it on the hydration scripts), so injected markup cannot run
 * script (XSS). Development allows 'unsafe-inline' and 'unsafe-eval' for Vite's hot-reload preamble.
 */
export function buildContentSecurityPolicy(options: PolicyOptions): string {
  // Responses without a nonce (API, assets) share one string per mode.
  const cacheKey = options.nonce ? null : String(options.isDevelopment)
  const cached = cacheKey ? policyCache.get(cacheKey) : undefined
  if (cached) return cached
  const scriptSrc = options.isDevelopment ? "'self' 'unsafe-inline' 'unsafe-eval'" : options.nonce ? `'self' 'nonce-${options.nonce}'` : "'self'"
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
  if (cacheKey) policyCache.set(cacheKey, policy)
  return policy
}

/** Adds the baseline headers to a response's headers without overwriting what a handler chose. */
export function applySecurityHeaders(headers: Headers, options: PolicyOptions & { isHttps: boolean }): void {
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
