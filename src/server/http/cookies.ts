/**
 * Server-only: a minimal cookie jar interface, so one tRPC context works for HTTP requests (headers
 * on the fetch Response), SSR (Start's response) and tests (an in-memory record).
 */
export type CookieOptions = {
  httpOnly?: boolean
  secure?: boolean
  sameSite?: 'lax' | 'strict' | 'none'
  path?: string
  /** Seconds; 0 deletes. */
  maxAge?: number
  expires?: Date
}

export type CookieJar = {
  get(name: string): string | undefined
  set(name: string, value: string, options: CookieOptions): void
}

/** Parses a `Cookie` request header; the first occurrence of a name wins (RFC 6265 §5.4 ordering). */
export function parseCookieHeader(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>()
  if (!header) return cookies
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator < 1) continue
    const name = part.slice(0, separator).trim()
    // ` =value` has an empty name once trimmed: not a cookie.
    if (!name || cookies.has(name)) continue
    const raw = part.slice(separator + 1).trim()
    try {
      cookies.set(name, decodeURIComponent(raw))
    } catch {
      // A malformed escape is an attacker's or a broken client's; ignore the cookie, do not fail.
    }
  }
  return cookies
}

/** Serialises one `Set-Cookie` value. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`]
  parts.push(`Path=${options.path ?? '/'}`)
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`)
  if (options.expires) parts.push(`Expires=${options.expires.toUTCString()}`)
  if (options.httpOnly) parts.push('HttpOnly')
  if (options.secure) parts.push('Secure')
  if (options.sameSite) parts.push(`SameSite=${options.sameSite[0]!.toUpperCase()}${options.sameSite.slice(1)}`)
  return parts.join('; ')
}

/**
 * A jar that reads the request's `Cookie` header and appends `Set-Cookie` to the given headers.
 * Later reads see what was set; pass `incoming` to keep that memory across requests (a test browser).
 */
export function createHeaderCookieJar(request: Request, responseHeaders: Headers, incoming = parseCookieHeader(request.headers.get('cookie'))): CookieJar {
  return {
    get: (name) => incoming.get(name),
    set: (name, value, options) => {
      responseHeaders.append('set-cookie', serializeCookie(name, value, options))
      if (options.maxAge === 0) incoming.delete(name)
      else incoming.set(name, value)
    },
  }
}
