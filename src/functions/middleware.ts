/**
 * Client-importable: the server-function guards as Start function middleware (SPEC §3), the
 * twins of `protectedProcedure` and `roleProcedure`.
 *
 * These objects live outside `src/server/` because `createServerFn().middleware([...])` keeps its
 * middleware list in the client bundle. Their logic does not: Start's compiler removes every
 * `.server()` body from the client build, and with it the only uses of the `src/server/` imports
 * below (import protection fails the build if one survives).
 */
import { createMiddleware } from '@tanstack/react-start'
import type { RoleRequirement } from '../lib/roles'
import { forwardResponseHeaders, requireServerFnRole, requireServerFnSession } from '../server/server-fn/guards'

/**
 * Refuses (UNAUTHENTICATED / MFA_REQUIRED / MFA_ENROLLMENT_REQUIRED) unless the call carries a
 * fully authenticated session; the handler gets `context.user`, `context.session`,
 * `context.organization` and `context.requestContext` (the tRPC context of this request).
 */
export const requireSessionMiddleware = createMiddleware({ type: 'function' }).server(async ({ next }) => {
  const session = await requireServerFnSession()
  try {
    return await next({ context: session })
  } finally {
    forwardResponseHeaders(session.requestContext)
  }
})

/** `requireSessionMiddleware` plus at least `requirement` (one role) or one of it (a list); else FORBIDDEN. */
export function requireRoleMiddleware(requirement: RoleRequirement) {
  return createMiddleware({ type: 'function' })
    .middleware([requireSessionMiddleware])
    .server(({ context, next }) => {
      requireServerFnRole(context, requirement)
      return next()
    })
}
