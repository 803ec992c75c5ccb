/**
 * Server-only: the tRPC guards' twins for TanStack Start server functions (SPEC §3: a server
 * function is as reachable as a tRPC procedure, so it checks the session itself).
 *
 * The session is resolved exactly as the tRPC context resolves it (same cookie, same lookup, same
 * MFA state), and refusals use the same error catalog, message and HTTP status as
 * `protectedProcedure` / `roleProcedure`. The middleware objects that call these live in
 * `src/functions/middleware.ts`, because `createServerFn().middleware([...])` keeps its
 * middleware list in the client bundle and `src/server/**` may never be imported there.
 */
import { getRequest, setResponseHeader } from '@tanstack/react-start/server'
import { satisfiesRole, type RoleRequirement } from '../../lib/roles'
import { getFullSignInRefusal } from '../auth/mfa-policy'
import type { AuthState } from '../auth/auth-state'
import { createStartCookieJar } from '../http/start-cookie-jar'
import { createRequestContext, type RequestContext } from '../request-context'
import { createServerFnCatalogError } from './error-policy'

/** What a guarded server function's handler receives as `context`. */
export type ServerFnSession = {
  /** The same context a tRPC procedure gets (db, now, clientIp, env, cookies, responseHeaders). */
  requestContext: RequestContext
  auth: AuthState
  user: AuthState['user']
  session: AuthState['session']
  organization: AuthState['organization']
}

/** The request context of the current Start request (a server-function call or an SSR render). */
export function createServerFnRequestContext(): RequestContext {
  const request = getRequest()
  return createRequestContext({ request, cookies: createStartCookieJar(request), responseHeaders: new Headers() })
}

/**
 * A fully authenticated session, as `protectedProcedure` demands: signed in, and MFA satisfied or
 * not required. Throws UNAUTHENTICATED, MFA_REQUIRED or MFA_ENROLLMENT_REQUIRED otherwise.
 */
export async function requireServerFnSession(): Promise<ServerFnSession> {
  const requestContext = createServerFnRequestContext()
  const auth = await requestContext.getAuth()
  if (!auth) throw createServerFnCatalogError('UNAUTHENTICATED')
  // A session that has only proven the password reaches nothing but the MFA endpoints.
  const refusal = getFullSignInRefusal(auth.mfaState)
  if (refusal) throw createServerFnCatalogError(refusal)
  return { requestContext, auth, user: auth.user, session: auth.session, organization: auth.organization }
}

/** Throws FORBIDDEN unless the user's role (read from the database this request) satisfies `requirement`. */
export function requireServerFnRole(session: ServerFnSession, requirement: RoleRequirement): void {
  if (!satisfiesRole(session.user.role, requirement)) throw createServerFnCatalogError('FORBIDDEN')
}

/** Copies headers the request context collected (e.g. `Retry-After`) onto the Start response. */
export function forwardResponseHeaders(requestContext: RequestContext): void {
  for (const [name, value] of requestContext.responseHeaders) setResponseHeader(name, value)
}
