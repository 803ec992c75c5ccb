/**
 * Client-safe: where a viewer belongs, as `beforeLoad` guards. These are UX only: every procedure
 * and server function checks the session itself (SPEC §3).
 */
import { redirect } from '@tanstack/react-router'
import { getSafeRedirect } from './safe-redirect'
import { isSignedIn, type SignedInViewer, type Viewer } from './viewer'

/** The MFA pages (challenge, forced enrollment) are built outside this module; linked by href. */
const MFA_CHALLENGE_PATH = '/login/mfa'
const MFA_ENROLLMENT_PATH = '/mfa/enroll'

/** `path?redirect=<target>` with the target encoded. */
export function withRedirectParam(path: string, target: string): string {
  return `${path}?${new URLSearchParams({ redirect: target })}`
}

/**
 * Where to go once signed in. No `redirect` at all: the dashboard. A refused one (another origin,
 * `//host`, `javascript:` …): the home page, as SPEC §3 says.
 */
export function getPostSignInTarget(redirectParam: string | undefined): string {
  return redirectParam === undefined ? '/app' : getSafeRedirect(redirectParam, '/')
}

/** Reads `?redirect=` from raw search params (TanStack Router may parse values as JSON). */
export function parseRedirectSearch(search: Record<string, unknown>): { redirect?: string } {
  return typeof search.redirect === 'string' ? { redirect: search.redirect } : {}
}

/**
 * Guard for the `_authed` subtree: returns the signed-in viewer, or redirects — signed out to the
 * login page, a pending second factor to the MFA challenge, a forced enrollment to MFA setup —
 * each with a `redirect` back to `currentHref`.
 */
export function requireSignedInViewer(viewer: Viewer | undefined, currentHref: string): SignedInViewer {
  if (isSignedIn(viewer)) return viewer
  if (viewer?.status === 'mfa-pending') throw redirect({ href: withRedirectParam(MFA_CHALLENGE_PATH, currentHref) })
  if (viewer?.status === 'mfa-enrollment-required') throw redirect({ href: withRedirectParam(MFA_ENROLLMENT_PATH, currentHref) })
  throw redirect({ to: '/login', search: { redirect: currentHref } })
}

/**
 * Guard for guest pages (login, sign-up, forgot password): a viewer who is already signed in
 * (perhaps in another tab) moves on to the target; one owing MFA goes to the MFA step.
 */
export function redirectAwayFromGuestPage(viewer: Viewer | undefined, redirectParam: string | undefined): void {
  if (!viewer) return
  const target = getPostSignInTarget(redirectParam)
  if (viewer.status === 'mfa-pending') throw redirect({ href: withRedirectParam(MFA_CHALLENGE_PATH, target) })
  if (viewer.status === 'mfa-enrollment-required') throw redirect({ href: withRedirectParam(MFA_ENROLLMENT_PATH, target) })
  throw redirect({ href: target })
}
