/**
 * Server-only: the password sign-in ladder (STYLE principle 7):
 * rate limit → look up → lockout → verify (constant work for unknown emails) → session → audit.
 * Every failure answers the same INVALID_CREDENTIALS, so the response never says whether an
 * email has an account (OWASP ASVS 2.2.x, WSTG-IDNT-04).
 */
import { sha256 } from '@oslojs/crypto/sha2'
import { encodeHexLowerCase } from '@oslojs/encoding'
import { appError } from '../errors'
import type { TRPCContext } from '../trpc/context'
import { auditFromContext } from '../trpc/audit'
import { getUserByEmail } from '../users/users'
import { getMfaState } from './mfa-policy'
import { verifyAgainstDummyHash, verifyPassword } from './password'
import { enforceRateLimit, getAccountLockSeconds, recordAccountFailure, resetAccountFailures } from './rate-limit'
import { invalidateSession } from './session'
import { createSessionAndSetCookie } from '../trpc/session-actions'

export type SignInResult = { status: 'signed-in' } | { status: 'mfa-required' } | { status: 'mfa-enrollment-required' }

/** Rate-limit and lockout subject for an email: a hash, so raw addresses never sit in bucket keys. */
export function accountSubject(email: string): string {
  return `email:${encodeHexLowerCase(sha256(new TextEncoder().encode(email))).slice(0, 32)}`
}

/**
 * Ends the session the browser arrived with, so a sign-in never keeps a pre-existing token alive.
 * Only a session the cookie proves (id and secret) is ended: session ids are not secret (sessions
 * list, audit details), and an id alone must not let anyone sign someone else out.
 */
export async function endIncomingSession(ctx: TRPCContext): Promise<void> {
  const auth = await ctx.getAuth()
  if (auth) await invalidateSession(ctx.db, auth.session.id)
  ctx.resetAuth()
}

/** Signs in with email + password; the email is already normalised by the input schema. */
export async function signInWithPassword(ctx: TRPCContext, input: { email: string; password: string }): Promise<SignInResult> {
  await enforceRateLimit(ctx, 'signInPerIp', ctx.clientIp)
  await enforceRateLimit(ctx, 'signInPerAccount', accountSubject(input.email))

  const user = await getUserByEmail(ctx.db, input.email)
  // Unknown emails get their own lockout bucket so a locked answer cannot tell them apart.
  const lockSubject = user?.id ?? accountSubject(input.email)
  const lockSeconds = await getAccountLockSeconds(ctx.db, lockSubject, ctx.now)
  if (lockSeconds > 0) {
    // Same argon2 work whether the account exists, has a password (SSO-only users have none) or not.
    if (user?.passwordHash) await verifyPassword(user.passwordHash, input.password)
    else await verifyAgainstDummyHash(input.password)
    await auditFromContext(ctx, 'auth.sign_in.failed', { subjectUserId: user?.id, organizationId: user?.organizationId, details: { reason: 'locked' } })
    // 429 + Retry-After like every throttled answer (the API contract); unknown emails lock alike.
    ctx.responseHeaders.set('retry-after', String(lockSeconds))
    throw appError('ACCOUNT_LOCKED')
  }

  const isPasswordValid = user?.passwordHash ? await verifyPassword(user.passwordHash, input.password) : await verifyAgainstDummyHash(input.password)
  if (!user || !isPasswordValid || user.disabledAt) {
    const hasJustLocked = await recordAccountFailure(ctx.db, lockSubject, ctx.now)
    const reason = !user ? 'unknown_email' : !isPasswordValid ? 'bad_password' : 'disabled'
    await auditFromContext(ctx, 'auth.sign_in.failed', { subjectUserId: user?.id, organizationId: user?.organizationId, details: { reason } })
    if (hasJustLocked && user) await auditFromContext(ctx, 'account.locked', { subjectUserId: user.id, organizationId: user.organizationId })
    throw appError('INVALID_CREDENTIALS')
  }

  await endIncomingSession(ctx)
  const session = await createSessionAndSetCookie(ctx, user.id, { authMethod: 'password' })

  const auth = await ctx.getAuth()
  const mfaState = auth ? auth.mfaState : getMfaState(session, user, null)
  if (mfaState === 'pending') {
    // The password step alone is not a sign-in; success is audited when the factor is proven.
    return { status: 'mfa-required' }
  }
  await resetAccountFailures(ctx.db, user.id)
  await auditFromContext(ctx, 'auth.sign_in.succeeded', { actorUserId: user.id, subjectUserId: user.id, organizationId: user.organizationId, details: { method: 'password' } })
  return mfaState === 'enrollment_required' ? { status: 'mfa-enrollment-required' } : { status: 'signed-in' }
}
