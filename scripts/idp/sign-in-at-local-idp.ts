/**
 * DEVELOPMENT AND TEST ONLY: plays the browser at the local OIDC provider. Follows the redirects
 * from an authorization URL with a cookie jar, fills in the login form, and returns the URL the
 * IdP finally redirects to (the app's callback, with `code`/`state`/`iss` or an `error`). Tests and
 * the bench use it to sign in without Chromium.
 */

const MAX_STEPS = 10

/** A minimal cookie jar: name → value, for one origin (the IdP). */
function createCookieJar() {
  const cookies = new Map<string, string>()
  return {
    store(headers: Headers) {
      for (const line of headers.getSetCookie()) {
        const [pair] = line.split(';')
        const separator = pair!.indexOf('=')
        const name = pair!.slice(0, separator).trim()
        const value = pair!.slice(separator + 1).trim()
        if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') cookies.delete(name)
        else cookies.set(name, value)
      }
    },
    header: () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
  }
}

export type LocalIdpCredentials = { email: string; password: string }

/**
 * Signs in at the local IdP and returns the redirect back to the app (not followed). Throws when
 * the IdP shows its login page again (wrong password) or an error page.
 */
export async function signInAtLocalIdp(authorizationUrl: string | URL, credentials: LocalIdpCredentials, options: { cancel?: boolean } = {}): Promise<string> {
  const idpOrigin = new URL(authorizationUrl).origin
  const jar = createCookieJar()
  let url = new URL(authorizationUrl)
  let method: 'GET' | 'POST' = 'GET'
  let body: URLSearchParams | undefined
  for (let step = 0; step < MAX_STEPS; step++) {
    const response = await fetch(url, { method, body, redirect: 'manual', headers: { cookie: jar.header() } })
    jar.store(response.headers)
    const location = response.headers.get('location')
    if (location) {
      const next = new URL(location, url)
      if (next.origin !== idpOrigin) return next.href
      url = next
      method = 'GET'
      body = undefined
      continue
    }
    const html = await response.text()
    if (response.status === 200 && /^\/interaction\//.test(url.pathname) && method === 'GET') {
      method = 'POST'
      body = new URLSearchParams(options.cancel ? { action: 'deny' } : { action: 'login', email: credentials.email, password: credentials.password })
      continue
    }
    throw new Error(`local IdP stopped at ${url.pathname} (${response.status}): ${html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)}`)
  }
  throw new Error(`local IdP did not redirect back within ${MAX_STEPS} steps`)
}
