/** Server-only: the authentication state of a request — its live session, user, organization and MFA state. */
import type { PooledDatabase } from '../db/client'
import type { CookieJar } from '../http/cookies'
import { getMfaState, type MfaState } from './mfa-policy'
import { validateSessionToken, type ValidatedSession } from './session'
import { readSessionToken } from './session-cookie'

/** A validated session plus its MFA state. */
export type AuthState = ValidatedSession & { mfaState: MfaState }

/** The request's session from its cookie, or null when there is none or it is not live. */
export async function resolveAuthState(db: PooledDatabase, cookies: CookieJar, appUrl: URL, now: Date): Promise<AuthState | null> {
  const token = readSessionToken(cookies, appUrl)
  if (!token) return null
  const validated = await validateSessionToken(db, token, now)
  if (!validated) return null
  return { ...validated, mfaState: getMfaState(validated.session, validated.user, validated.organization) }
}
