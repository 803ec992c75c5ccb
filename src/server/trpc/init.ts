/**
 * Server-only: the tRPC instance and the procedure builders every router uses.
 *
 * Guards narrow types: after `protectedProcedure`, `ctx.user` and `ctx.session` are non-null;
 * after `roleProcedure`, the role is known to satisfy the requirement. Every guard reads the
 * session and the role from the database on each request, so revocation and demotion apply to
 * the very next call, on every instance.
 */
import { initTRPC } from '@trpc/server'
import { ZodError } from 'zod'
import type { RoleRequirement } from '../../lib/roles'
import { satisfiesRole } from '../../lib/roles'
import { getFullSignInRefusal } from '../auth/mfa-policy'
import { requireRecentReauthentication } from '../auth/reauthentication'
import { refuseWhenDatabaseUnavailable } from '../db/database-unavailable-response'
import { AppError, appError } from '../errors'
import type { RequestContext } from '../request-context'

/** tRPC's context is the transport-neutral request context (`src/server/request-context.ts`). */
export type TRPCContext = RequestContext

const isProduction = process.env.NODE_ENV === 'production'

const t = initTRPC.context<RequestContext>().create({
  isDev: !isProduction,
  errorFormatter({ shape, error }) {
    const appCode = error.cause instanceof AppError ? error.cause.appCode : null
    const isInternal = error.code === 'INTERNAL_SERVER_ERROR'
    return {
      ...shape,
      // An unexpected failure's message may carry SQL or a driver detail: in production the
      // client sees a generic sentence, the operator's log has the cause.
      message: isInternal && isProduction ? 'Something went wrong.' : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        appCode,
        zodIssues: error.cause instanceof ZodError ? error.cause.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })) : null,
        ...(isProduction ? {} : { stack: shape.data.stack }),
      },
    }
  },
})

export const createTRPCRouter = t.router
export const createCallerFactory = t.createCallerFactory

/**
 * Anyone may call it. The base of every procedure: a call that fails because the database is
 * unreachable or frozen answers 503 + Retry-After instead of 500 (`db/availability.ts`).
 */
export const publicProcedure = t.procedure.use(async ({ ctx, next }) => refuseWhenDatabaseUnavailable(await next(), ctx.responseHeaders))

/** Any live session, whatever its MFA state: the base of every authenticated guard. */
const sessionProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const auth = await ctx.getAuth()
  if (!auth) throw appError('UNAUTHENTICATED')
  return next({ ctx: { ...ctx, auth, session: auth.session, user: auth.user, organization: auth.organization } })
})

/**
 * The password step is done and a second factor is owed: the only state in which MFA challenge
 * endpoints answer. A fully signed-in session gets FORBIDDEN here (nothing to verify).
 */
export const mfaPendingProcedure = sessionProcedure.use(({ ctx, next }) => {
  if (ctx.auth.mfaState !== 'pending') throw appError('FORBIDDEN')
  return next()
})

/**
 * A session that may manage its own MFA enrollment: fully signed in, or signed in but forced to
 * enroll by policy. A pending session (factor owed) never gets here.
 */
export const mfaEnrollmentProcedure = sessionProcedure.use(({ ctx, next }) => {
  if (ctx.auth.mfaState === 'pending') throw appError('MFA_REQUIRED')
  return next()
})

/** A fully authenticated session: MFA satisfied, or not required by policy. */
export const protectedProcedure = sessionProcedure.use(({ ctx, next }) => {
  const refusal = getFullSignInRefusal(ctx.auth.mfaState)
  if (refusal) throw appError(refusal)
  return next()
})

/** At least `requirement` (one role) or one of `requirement` (a list), read from the database this request. */
export function roleProcedure(requirement: RoleRequirement) {
  return protectedProcedure.use(({ ctx, next }) => {
    if (!satisfiesRole(ctx.user.role, requirement)) throw appError('FORBIDDEN')
    return next()
  })
}

/** The organization admin console's guard: at least `admin`, scoped by the caller's own organization. */
export const adminProcedure = roleProcedure('admin')

/** A fully authenticated session that re-authenticated recently (the rule lives in `auth/reauthentication.ts`). */
export const sensitiveProcedure = protectedProcedure.use(({ ctx, next }) => {
  requireRecentReauthentication(ctx.session, ctx.now)
  return next()
})

/** An admin whose session re-authenticated recently: role changes, MFA resets, policy changes. */
export const adminSensitiveProcedure = adminProcedure.use(({ ctx, next }) => {
  requireRecentReauthentication(ctx.session, ctx.now)
  return next()
})

/** An owner whose session re-authenticated recently: decisions that can lock an organization out (SSO enforcement). */
export const ownerSensitiveProcedure = roleProcedure('owner').use(({ ctx, next }) => {
  requireRecentReauthentication(ctx.session, ctx.now)
  return next()
})
