/**
 * Server-only: the context of one request, whatever carried it — a tRPC call over HTTP, an SSR
 * render calling procedures in-process, a server function, or a server route such as an SSO
 * callback. Domain code (`src/server/auth`, …) takes this type and never a transport's, so a
 * server route reuses sign-in, rate limits and audit exactly as tRPC does.
 *
 * The session is resolved lazily and at most once per request: public endpoints pay nothing, and
 * every guard of a tRPC batch shares one lookup.
 */
import { auditRequest, type AuditFields } from './audit/request-audit'
import type { AuditEventType } from './audit/audit-event-types'
import { resolveAuthState, type AuthState } from './auth/auth-state'
import { enforceRateLimit, type PerIpRateLimitPolicyName, type SubjectRateLimitPolicyName } from './auth/rate-limit'
import { now } from './clock'
import { getDb, type PooledDatabase } from './db/client'
import { getServerEnv, type ServerEnv } from './env'
import { getClientIp, rateLimitSubjectForIp } from './http/client-ip'
import type { CookieJar } from './http/cookies'

export type { AuthState }

export type RequestContextOptions = {
  request: Request
  cookies: CookieJar
  /** Response headers of the surrounding request (`Retry-After`, `Cache-Control`, `Set-Cookie` for header jars). */
  responseHeaders: Headers
  db?: PooledDatabase
}

const MAX_USER_AGENT_LENGTH = 512

/** Everything domain code may rely on about the request it serves. */
export type RequestContext = {
  request: Request
  cookies: CookieJar
  responseHeaders: Headers
  db: PooledDatabase
  env: ServerEnv
  /** The request's time (moved only by tests' clock). */
  now: Date
  /** The client's full address, for audit rows, session records and security mail. */
  clientIp: string
  /**
   * The network per-IP rate limits count the client in: the IPv4 address, or the IPv6 /64
   * (`rateLimitSubjectForIp`). Never written anywhere but a rate-limit bucket key.
   */
  clientNetwork: string
  userAgent: string | null
  /** The session behind the request's cookie with its MFA state, or null; looked up once. */
  getAuth(): Promise<AuthState | null>
  /** Forgets the cached session after a sign-in, sign-out or rotation within this request. */
  resetAuth(): void
  /** Appends one audit event with this request's IP and user agent. */
  audit(type: AuditEventType, fields?: AuditFields): Promise<void>
  /** Spends one attempt of a per-IP rate limit for `clientNetwork`; over it, sets `Retry-After` and throws RATE_LIMITED. */
  enforcePerIpRateLimit(policyName: PerIpRateLimitPolicyName): Promise<void>
  /** Spends one attempt of a per-account (or per-organization) rate limit for `subject`; over it, as above. */
  enforceRateLimit(policyName: SubjectRateLimitPolicyName, subject: string): Promise<void>
}

/** Builds the context of one request from the `Request`, its cookie jar and its response headers. */
export function createRequestContext(options: RequestContextOptions): RequestContext {
  const env = getServerEnv()
  const db = options.db ?? getDb()
  const requestTime = now()
  let authPromise: Promise<AuthState | null> | undefined
  const clientIp = getClientIp(options.request, env.trustProxyHops)

  const ctx: RequestContext = {
    request: options.request,
    cookies: options.cookies,
    responseHeaders: options.responseHeaders,
    db,
    env,
    now: requestTime,
    clientIp,
    clientNetwork: rateLimitSubjectForIp(clientIp),
    userAgent: options.request.headers.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
    getAuth() {
      authPromise ??= resolveAuthState(db, options.cookies, env.appUrl, requestTime)
      return authPromise
    },
    resetAuth() {
      authPromise = undefined
    },
    audit: (type, fields) => auditRequest(ctx, type, fields),
    enforcePerIpRateLimit: (policyName) => enforceRateLimit(ctx, policyName, ctx.clientNetwork),
    enforceRateLimit: (policyName, subject) => enforceRateLimit(ctx, policyName, subject),
  }
  return ctx
}
