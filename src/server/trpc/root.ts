/** Server-only: the one place every router is registered. */
import { createCallerFactory, createTRPCRouter } from './init'
import { systemRouter } from './routers/system'

export const appRouter = createTRPCRouter({
  system: systemRouter,
})

export type AppRouter = typeof appRouter

/** In-process calls: SSR loaders and tests. */
export const createCaller = createCallerFactory(appRouter)
