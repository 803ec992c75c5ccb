/**
 * Client-safe: the viewer as `auth.me` returns it, and the narrowing every component and guard uses.
 */
import type { RouterOutputs } from './trpc'

/** Null when signed out; `{ status: 'mfa-pending' }` while a second factor is owed. */
export type Viewer = RouterOutputs['auth']['me']

/** A viewer who knows the user (fully signed in, or signed in but forced to enroll MFA). */
export type KnownViewer = Extract<NonNullable<Viewer>, { user: unknown }>

/** A fully signed-in viewer: the only kind the `_authed` subtree ever renders for. */
export type SignedInViewer = KnownViewer & { status: 'signed-in' }

/** True when the viewer is fully signed in (MFA satisfied or not required). */
export function isSignedIn(viewer: Viewer | undefined): viewer is SignedInViewer {
  return viewer?.status === 'signed-in'
}
