/** Server-only: what `auth.me` returns — the signed-in user as the client may see it. */
import type { AuthState } from './auth-state'
import { getMfaEnrollmentReason, type MfaEnrollmentReason } from './mfa-policy'

/** What a viewer who knows the user sees of the account and session; times are ISO strings. */
type KnownViewerFields = {
  user: {
    id: string
    email: string
    name: string
    role: string
    isEmailVerified: boolean
    isMfaEnabled: boolean
    /** False for SSO-only accounts: no password to change or to confirm with. */
    hasPassword: boolean
    organization: { id: string; name: string; slug: string } | null
  }
  session: {
    id: string
    authMethod: string
    ssoConnectionId: string | null
    /** The connection's display name for SSO sessions ("Continue with …" in the re-auth dialog). */
    ssoConnectionName: string | null
    createdAt: string
    mfaSatisfiedAt: string | null
    reauthenticatedAt: string
  }
}

/** A JSON-safe view of the session. */
export type Viewer =
  | { status: 'mfa-pending' }
  | ({ status: 'signed-in' } & KnownViewerFields)
  /** Signed in but sent to enrollment; `mfaEnrollmentReason` says why, so the page can too. */
  | ({ status: 'mfa-enrollment-required'; mfaEnrollmentReason: MfaEnrollmentReason } & KnownViewerFields)

/**
 * Builds the viewer. A session still owing its second factor learns nothing about the account
 * beyond the fact that a code is due (it has only proven the password).
 */
export function toViewer(auth: AuthState, ssoConnectionName: string | null = null): Viewer {
  if (auth.mfaState === 'pending') return { status: 'mfa-pending' }
  const { user, session, organization } = auth
  const enrollmentReason = auth.mfaState === 'enrollment_required' ? getMfaEnrollmentReason(session, user, organization) : null
  const known: KnownViewerFields = {
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      isEmailVerified: user.emailVerifiedAt !== null,
      isMfaEnabled: user.mfaEnabledAt !== null,
      hasPassword: user.passwordHash !== null,
      organization: organization ? { id: organization.id, name: organization.name, slug: organization.slug } : null,
    },
    session: {
      id: session.id,
      authMethod: session.authMethod,
      ssoConnectionId: session.ssoConnectionId,
      ssoConnectionName,
      createdAt: session.createdAt.toISOString(),
      mfaSatisfiedAt: session.mfaSatisfiedAt?.toISOString() ?? null,
      reauthenticatedAt: session.reauthenticatedAt.toISOString(),
    },
  }
  return enrollmentReason ? { status: 'mfa-enrollment-required', mfaEnrollmentReason: enrollmentReason, ...known } : { status: 'signed-in', ...known }
}
