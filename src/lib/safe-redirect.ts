/**
 * Client-safe: sanitises `?redirect=` targets. An open redirect turns the login page into a
 * phishing tool ("sign in, then land on evil.example"; OWASP ASVS 5.1.5, CWE-601), so only
 * same-origin absolute paths survive; everything else becomes the fallback.
 */

const PLACEHOLDER_ORIGIN = 'https://gatehouse.invalid'
const MAX_REDIRECT_LENGTH = 2048
/** How many rounds of percent-decoding are inspected (double- and triple-encoding tricks). */
const MAX_DECODE_ROUNDS = 3

// C0 controls, DEL and whitespace: browsers strip tab/newline inside URLs, so "/\t/evil" is "//evil".
const CONTROL_OR_WHITESPACE = /[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/

/** True when `value` has the shape of a same-origin path: "/x", never "//host" or "/\host". */
function hasSafePathShape(value: string): boolean {
  return value.startsWith('/') && value[1] !== '/' && value[1] !== '\\'
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value)
  } catch {
    return null
  }
}

/**
 * The redirect target when it is a same-origin absolute path (returned normalised as
 * path + search + hash), otherwise `fallback`.
 */
export function getSafeRedirect(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REDIRECT_LENGTH) return fallback
  // Browsers treat "\" as "/" in http(s) URLs; a raw backslash anywhere has no honest use here.
  if (value.includes('\\') || CONTROL_OR_WHITESPACE.test(value)) return fallback
  if (!hasSafePathShape(value)) return fallback

  // "/%2F%2Fevil", "/%5Cevil", "/%09/evil": refuse when any decoding round reveals an unsafe prefix
  // or a control character (some router or proxy on the way may decode once more than we do).
  let decoded = value
  for (let round = 0; round < MAX_DECODE_ROUNDS; round += 1) {
    const next = safeDecode(decoded)
    if (next === null) return fallback
    if (next === decoded) break
    if (!hasSafePathShape(next) || /[\u0000-\u001f\u007f]/.test(next)) return fallback
    decoded = next
  }

  let url: URL
  try {
    url = new URL(value, PLACEHOLDER_ORIGIN)
  } catch {
    return fallback
  }
  if (url.origin !== PLACEHOLDER_ORIGIN) return fallback
  const target = `${url.pathname}${url.search}${url.hash}`
  return hasSafePathShape(target) ? target : fallback
}
