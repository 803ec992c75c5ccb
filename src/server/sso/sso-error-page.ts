/**
 * Server-only: the page a refused SSO callback shows. Our own words and a reason code only: never
 * the IdP's `error_description` or any other text from the response (content injection, XSS), and
 * nothing that tells an attacker which check failed beyond a code the support desk can look up.
 */

const TITLES: Record<number, string> = {
  400: 'Single sign-on did not complete',
  403: 'Single sign-on was refused',
  404: 'Single sign-on did not complete',
  429: 'Too many sign-in attempts',
  502: 'Your identity provider could not be reached',
}

const REASON_PATTERN = /^[a-z0-9_]{1,64}$/

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/**
 * The page a cross-site SSO start stops at: one link that continues from our own origin, so no
 * other site can start a login in the visitor's browser without a click here (login CSRF).
 */
export function renderSsoStartConfirmation(connectionName: string, startUrl: URL): Response {
  const continueHref = `${startUrl.pathname}${startUrl.search}`
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Continue to sign in · Gatehouse</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #0f172a">
<h1 style="font-size: 1.25rem">Sign in with ${escapeHtml(connectionName)}?</h1>
<p>Another site sent you here to sign in to Gatehouse through your organization’s identity provider. Continue only if you meant to.</p>
<p><a href="${escapeHtml(continueHref)}" style="display: inline-block; padding: 0.5rem 1rem; border-radius: 0.375rem; background: #4f46e5; color: white; text-decoration: none">Continue to ${escapeHtml(connectionName)}</a></p>
<p><a href="/login">Sign in another way</a></p>
</body>
</html>
`
  return new Response(body, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } })
}

/** A small, self-contained HTML page (no script, no external resource) for a refused SSO step. */
export function renderSsoErrorPage(status: number, reason: string, extraHeaders: Headers = new Headers()): Response {
  const title = TITLES[status] ?? 'Single sign-on did not complete'
  const code = REASON_PATTERN.test(reason) ? reason : 'unknown'
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Gatehouse</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #0f172a">
<h1 style="font-size: 1.25rem">${title}</h1>
<p>You were not signed in. Start again from the sign-in page; if this keeps happening, tell your administrator the reason code below.</p>
<p style="color: #475569">Reason code: <code>${code}</code></p>
<p><a href="/login">Back to sign in</a></p>
</body>
</html>
`
  const headers = new Headers(extraHeaders)
  headers.set('content-type', 'text/html; charset=utf-8')
  headers.set('cache-control', 'no-store')
  // Shown at the callback URLs, which carry the IdP's code and state or a SAML ticket: following
  // "Back to sign in" must not send that URL on as a Referer (into our own access logs).
  headers.set('referrer-policy', 'no-referrer')
  return new Response(body, { status, headers })
}
