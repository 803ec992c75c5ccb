/**
 * Client-safe: where the MFA pages send a viewer next. Each viewer state has exactly one page
 * (signed out → /login, factor owed → /login/mfa, forced enrollment → /mfa/enroll, signed in →
 * the target), and a target that points back at the challenge page is replaced, so no `redirect`
 * value can make two guards bounce a browser between them.
 */
import { getPostSignInTarget } from '../../lib/auth-redirects'

export const MFA_CHALLENGE_PATH = '/login/mfa'
export const MFA_ENROLLMENT_PATH = '/mfa/enroll'

const DEFAULT_TARGET = '/app'

/** The sanitised `redirect` target (same-origin paths only), never the challenge page itself. */
export function getMfaCompletionTarget(redirectParam: string | undefined): string {
  const target = getPostSignInTarget(redirectParam)
  const path = target.split(/[?#]/, 1)[0]!.replace(/\/+$/, '')
  return path === MFA_CHALLENGE_PATH ? DEFAULT_TARGET : target
}
