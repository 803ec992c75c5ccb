/**
 * Server-only: the tRPC context, built the same way for HTTP calls (`/api/trpc`), in-process SSR
 * calls (the request's own cookies, no HTTP hop) and tests (`createCaller`).
 *
 * The session is resolved lazily and at most once per request: public procedures pay nothing,
 * and every guard of a batch shares one lookup.
 */
import { getMfaState, type MfaState } from '../auth/mfa-policy'
import { readSessionToken } from '../auth/session-cookie'
import { validateSessionToken, type ValidatedSession } from '../auth/session'
import { now } from '../clock'
import { getDb, type PooledDatabase } from '../db/client'
import { getServerEnv } from '../env'
import { getClientIp } from '../http/client-ip'
import type { CookieJar } from '../http/cookies'

export type CreateContextOptions = {
  request: Request
  cookies: CookieJar
  /** Response headers of the surrounding request (for `Retry-After`, `Cache-Control`). */
  responseHeaders: Headers
  db?: PooledDatabase
}

/** A validated session plus its MFA state. */
export type AuthState = ValidatedSession & { mfaState: MfaState }

/** Everything a procedure may rely on. */
export async function createTRPCContext(options: CreateContextOptions) {
  const env = getServerEnv()
  const db = options.db ?? getDb()
  const requestTime = now()
  let authPromise: Promise<AuthState | null> | undefined

  return {
    request: options.request,
    cookies: options.cookies,
    responseHeaders: options.responseHeaders,
    db,
    env,
    /** The request's time (moved only by tests' clock). */
    now: requestTime,
    clientIp: getClientIp(options.request, env.trustProxyHops),
    userAgent: options.request.headers.get('user-agent')?.slice(0, 512) ?? null,
    /** The session behind the request's cookie, or null; looked up once. */
    getAuth(): Promise<AuthState | null> {
      authPromise ??= (async () => {
        const token = readSessionToken(options.cookies, env.appUrl)
        if (!token) return null
        const validated = await validateSessionToken(db, token, requestTime)
        if (!validated) return null
        return { ...validated, mfaState: getMfaState(validated.session, validated.user, validated.organization) }
      })()
      return authPromise
    },
    /** Forgets the cached session after sign-in/out or rotation within the same request. */
    resetAuth(): void {
      authPromise = undefined
    },
  }
}

export type TRPCContext = Awaited<ReturnType<typeof createTRPCContext>>
