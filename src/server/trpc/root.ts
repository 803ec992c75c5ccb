/** Server-only: the one place every router is registered. */
import { createCallerFactory, createTRPCRouter } from './init'
import { accountRouter } from './routers/account'
import { adminRouter } from './routers/admin'
import { authRouter } from './routers/auth'
import { devRouter } from './routers/dev'
import { mfaRouter } from './routers/mfa'
import { organizationRouter } from './routers/organization'
import { sessionsRouter } from './routers/sessions'
import { systemRouter } from './routers/system'

export const appRouter = createTRPCRouter({
  system: systemRouter,
  auth: authRouter,
  account: accountRouter,
  sessions: sessionsRouter,
  admin: adminRouter,
  dev: devRouter,
  mfa: mfaRouter,
  organization: organizationRouter,
})

export type AppRouter = typeof appRouter

/** In-process calls: SSR loaders and tests. */
export const createCaller = createCallerFactory(appRouter)
