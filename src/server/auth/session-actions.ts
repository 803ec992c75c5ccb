/**
 * Server-only: session changes as a request makes them — the database row, the cookie on the
 * response and the request's cached auth state, always together, so no flow can rotate a token and
 * forget to send it (or keep serving the old one from the cache).
 */
import type { Session } from '../../../db/schema'
import type { RequestContext } from '../request-context'
import { createSession, invalidateSession, rotateSession, type SessionChanges, type SessionMetadata } from './session'
import { deleteSessionCookie, setSessionCookie } from './session-cookie'

type SessionRequest = Pick<RequestContext, 'db' | 'now' | 'cookies' | 'env' | 'clientIp' | 'userAgent' | 'getAuth' | 'resetAuth'>

/** Starts a new session for the user from this request (IP and user agent recorded) and sets its cookie. */
export async function createSessionAndSetCookie(ctx: SessionRequest, userId: string, metadata: Omit<SessionMetadata, 'ip' | 'userAgent'>): Promise<Session> {
  const { token, session } = await createSession(ctx.db, userId, { ...metadata, ip: ctx.clientIp, userAgent: ctx.userAgent }, ctx.now)
  setSessionCookie(ctx.cookies, ctx.env.appUrl, token, session.absoluteExpiresAt)
  ctx.resetAuth()
  return session
}

/** Replaces the session with a new token carrying `changes` (privilege change) and sets its cookie. */
export async function rotateSessionAndSetCookie(ctx: SessionRequest, previous: Session, changes: SessionChanges): Promise<Session> {
  const { token, session } = await rotateSession(ctx.db, previous, changes, ctx.now)
  setSessionCookie(ctx.cookies, ctx.env.appUrl, token, session.absoluteExpiresAt)
  ctx.resetAuth()
  return session
}

/**
 * Ends the session the browser arrived with, so a sign-in never keeps a pre-existing token alive.
 * Only a session the cookie proves (id and secret) is ended: session ids are not secret (sessions
 * list, audit details), and an id alone must not let anyone sign someone else out.
 */
export async function endIncomingSession(ctx: SessionRequest): Promise<void> {
  const auth = await ctx.getAuth()
  if (auth) await invalidateSession(ctx.db, auth.session.id)
  ctx.resetAuth()
}

/** Deletes the session `sessionId` (the request's own) and expires the cookie in the browser. */
export async function endSessionAndClearCookie(ctx: SessionRequest, sessionId: string): Promise<void> {
  await invalidateSession(ctx.db, sessionId)
  deleteSessionCookie(ctx.cookies, ctx.env.appUrl)
  ctx.resetAuth()
}
