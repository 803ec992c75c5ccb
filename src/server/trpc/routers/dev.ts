/**
 * Server-only: development helpers. Every procedure here answers NOT_FOUND in production, whatever
 * MAIL_TRANSPORT says: the outbox holds live reset links for every account, and production must
 * never serve them (even when a demo or the HTTP tests run the production build with the outbox).
 */
import { listOutboxMessages } from '../../mail/outbox'
import { appError } from '../../errors'
import { createTRPCRouter, publicProcedure } from '../init'

/** Refuses in production as if the procedure did not exist. */
const developmentProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.env.mode === 'production') throw appError('NOT_FOUND')
  return next()
})

export const devRouter = createTRPCRouter({
  /** The newest outbox messages (development and tests only). */
  outbox: developmentProcedure.query(async ({ ctx }) => {
    const messages = await listOutboxMessages(ctx.db)
    return messages.map((message) => ({ ...message, createdAt: message.createdAt.toISOString() }))
  }),
})
