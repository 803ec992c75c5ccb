/**
 * Server-only: session changes as a request makes them — the database row, the cookie on the
 * response, and the context's cached session — always together, so no handler can rotate a token
 * and forget to send it (or keep serving the old one from the cache).
 */
import type { Session } from '../../../db/schema'
import { createSession, rotateSession, type SessionMetadata } from '../auth/session'
import { setSessionCookie } from '../auth/session-cookie'
import type { TRPCContext } from './context'

type SessionChanges = Parameters<typeof rotateSession>[2]

/** Starts a new session for the user from this request (IP and user agent recorded) and sets its cookie. */
export async function createSessionAndSetCookie(ctx: TRPCContext, userId: string, metadata: Omit<SessionMetadata, 'ip' | 'userAgent'>): Promise<Session> {
  const { token, session } = await createSession(ctx.db, userId, { ...metadata, ip: ctx.clientIp, userAgent: ctx.userAgent }, ctx.now)
  setSessionCookie(ctx.cookies, ctx.env.appUrl, token, session.absoluteExpiresAt)
  ctx.resetAuth()
  return session
}

/** Replaces the session with a new token carrying `changes` (privilege change) and sets its cookie. */
export async function rotateSessionAndSetCookie(ctx: TRPCContext, previous: Session, changes: SessionChanges): Promise<Session> {
  const { token, session } = await rotateSession(ctx.db, previous, changes, ctx.now)
  setSessionCookie(ctx.cookies, ctx.env.appUrl, token, session.absoluteExpiresAt)
  ctx.resetAuth()
  return session
}
