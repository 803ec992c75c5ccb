/**
 * Server-only: the tRPC instance and the procedure builders every router uses.
 */
import { initTRPC } from '@trpc/server'
import { ZodError } from 'zod'
import type { TRPCContext } from './context'

const t = initTRPC.context<TRPCContext>().create({
  errorFormatter({ shape, error }) {
    // Only zod's field errors travel to the client; stacks and causes never do in production
    // (tRPC drops `stack` when isDev is false, set from NODE_ENV below).
    return {
      ...shape,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        zodError: error.cause instanceof ZodError ? error.cause.issues.map((issue) => ({ path: issue.path, message: issue.message })) : null,
        ...(process.env.NODE_ENV === 'production' ? {} : { stack: shape.data.stack }),
      },
    }
  },
  isDev: process.env.NODE_ENV !== 'production',
})

export const createTRPCRouter = t.router
export const createCallerFactory = t.createCallerFactory
export const middleware = t.middleware

/** Anyone may call it; it still validates input and observes rate limits where they apply. */
export const publicProcedure = t.procedure
