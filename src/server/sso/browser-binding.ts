/**
 * Server-only: the cookie that ties an SSO login to the browser that started it (ADR 014). Without
 * it, an attacker could start a login, stop at the callback URL and get a victim's browser to open
 * it (login CSRF: the victim ends up in the attacker's account), or replay someone's callback URL.
 *
 * The value is 256 random bits; the flow row stores only its SHA-256. `HttpOnly`, `SameSite=Lax`
 * (the OIDC callback is a top-level GET, so Lax delivers it), `Path=/`, `__Host-` and `Secure`
 * over https like the session cookie. Concurrent flows in one browser share one value.
 */
import appConfig from '../../../app.config'
import type { CookieJar } from '../http/cookies'
import { generateFlowRandomValue } from './login-flows'

const BINDING_COOKIE_BASE_NAME = 'gatehouse_sso_binding'
const BINDING_VALUE_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** `__Host-gatehouse_sso_binding` over https, the plain name on http (local development and tests). */
export function getSsoBindingCookieName(appUrl: URL): string {
  return appUrl.protocol === 'https:' ? `__Host-${BINDING_COOKIE_BASE_NAME}` : BINDING_COOKIE_BASE_NAME
}

/** The browser's binding value, or null when it has none (or a malformed one). */
export function readSsoBinding(jar: CookieJar, appUrl: URL): string | null {
  const value = jar.get(getSsoBindingCookieName(appUrl))
  return value && BINDING_VALUE_PATTERN.test(value) ? value : null
}

/** The browser's binding value, created (and set for a flow's lifetime) when it has none. */
export function ensureSsoBinding(jar: CookieJar, appUrl: URL): string {
  const value = readSsoBinding(jar, appUrl) ?? generateFlowRandomValue()
  jar.set(getSsoBindingCookieName(appUrl), value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: appUrl.protocol === 'https:',
    maxAge: appConfig.sso.flowLifetimeSeconds,
  })
  return value
}
