/**
 * Server-only: the tRPC context, built the same way for HTTP calls (`/api/trpc`), in-process SSR
 * calls (the request's own cookies, no HTTP hop) and tests (`createCaller`).
 */
import type { CookieJar } from '../http/cookies'
import { getDb, type Database } from '../db/client'

export type CreateContextOptions = {
  request: Request
  cookies: CookieJar
  /** Response headers of the surrounding request (for `Retry-After`, `Cache-Control`). */
  responseHeaders: Headers
  db?: Database
}

/** Everything a procedure may rely on; later layers (session, rate limits) add to it. */
export async function createTRPCContext(options: CreateContextOptions) {
  return {
    request: options.request,
    cookies: options.cookies,
    responseHeaders: options.responseHeaders,
    db: options.db ?? getDb(),
  }
}

export type TRPCContext = Awaited<ReturnType<typeof createTRPCContext>>
