/** Client-safe: human words for the machine values the server sends. */

const AUTH_METHOD_LABELS: Record<string, string> = {
  password: 'Password',
  oidc: 'Single sign-on (OIDC)',
  saml: 'Single sign-on (SAML)',
}

/** "Password", "Single sign-on (OIDC)", …; unknown methods are shown as sent. */
export function describeAuthMethod(method: string): string {
  return AUTH_METHOD_LABELS[method] ?? method
}

/** "Owner", "Admin", "Member" (the configured role names, capitalised). */
export function describeRole(role: string): string {
  return role.charAt(0).toUpperCase() + role.slice(1)
}

/** A short "Browser on OS" from a user-agent string, good enough to recognise one's own devices. */
export function describeUserAgent(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device'
  const browser =
    /Edg\//.test(userAgent) ? 'Edge'
    : /OPR\//.test(userAgent) ? 'Opera'
    : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrome\/|Chromium\//.test(userAgent) ? 'Chrome'
    : /Safari\//.test(userAgent) ? 'Safari'
    : /curl\//i.test(userAgent) ? 'curl'
    : null
  const os =
    /iPhone|iPad|iPod/.test(userAgent) ? 'iOS'
    : /Android/.test(userAgent) ? 'Android'
    : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X|Macintosh/.test(userAgent) ? 'macOS'
    : /CrOS/.test(userAgent) ? 'ChromeOS'
    : /Linux/.test(userAgent) ? 'Linux'
    : null
  if (browser && os) return `${browser} on ${os}`
  return browser ?? os ?? userAgent.slice(0, 60)
}
