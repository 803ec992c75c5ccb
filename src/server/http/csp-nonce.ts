/**
 * Server-only: the per-request Content-Security-Policy nonce. The router stamps it on every inline
 * script it renders (hydration data, route scripts) and the response's CSP allows exactly those:
 * an injected `<script>` (XSS) without the nonce does not run, which `'unsafe-inline'` would allow.
 */
import { encodeBase64 } from '@oslojs/encoding'

const noncesByRequest = new WeakMap<Request, string>()

/** The request's nonce, created on first use (128 random bits). */
export function getCspNonce(request: Request): string {
  let nonce = noncesByRequest.get(request)
  if (!nonce) {
    const bytes = new Uint8Array(16)
    crypto.getRandomValues(bytes)
    nonce = encodeBase64(bytes)
    noncesByRequest.set(request, nonce)
  }
  return nonce
}

/**
 * The nonce for a request that may render a page; undefined for API and server-function requests
 * (`/api/*`, `/_serverFn/*`), which render no scripts — so the hot API path skips the work.
 */
export function getCspNonceForRender(request: Request): string | undefined {
  const url = request.url
  const pathStart = url.indexOf('/', url.indexOf('//') + 2)
  if (url.startsWith('/api/', pathStart) || url.startsWith('/_serverFn/', pathStart)) return undefined
  return getCspNonce(request)
}

/** The nonce if this request rendered a page (and so created one), else undefined. */
export function findCspNonce(request: Request): string | undefined {
  return noncesByRequest.get(request)
}
