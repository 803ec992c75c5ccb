/**
 * Server-only: the session cookie. `HttpOnly` (no script access), `SameSite=Lax` (no cross-site
 * POSTs carry it), `Path=/`, no `Domain`; over https also `Secure` with the `__Host-` prefix, which
 * browsers enforce so a sibling subdomain cannot plant or overwrite it (cookie tossing).
 */
import appConfig from '../../../app.config'
import type { CookieJar } from '../http/cookies'

/** `__Host-<name>` when the app is served over https, the plain name on http (local dev and tests). */
export function getSessionCookieName(appUrl: URL): string {
  const name = appConfig.cookie.sessionCookieName
  return appUrl.protocol === 'https:' ? `__Host-${name}` : name
}

/** Reads the session token from the request's cookies. */
export function readSessionToken(jar: CookieJar, appUrl: URL): string | null {
  return jar.get(getSessionCookieName(appUrl)) ?? null
}

/**
 * Sets the cookie for a new token. It lives until the absolute expiry; the server enforces the
 * idle timeout, so sliding renewal needs no Set-Cookie on ordinary requests.
 */
export function setSessionCookie(jar: CookieJar, appUrl: URL, token: string, absoluteExpiresAt: Date): void {
  jar.set(getSessionCookieName(appUrl), token, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: appUrl.protocol === 'https:',
    expires: absoluteExpiresAt,
  })
}

/** Expires the cookie in the browser. */
export function deleteSessionCookie(jar: CookieJar, appUrl: URL): void {
  jar.set(getSessionCookieName(appUrl), '', {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: appUrl.protocol === 'https:',
    maxAge: 0,
  })
}
