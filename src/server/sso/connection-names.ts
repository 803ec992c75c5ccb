/**
 * Server-only: a connection's display name for the viewer ("Continue with Acme Okta" in the re-auth
 * dialog), cached per instance for a minute so `auth.me` for SSO sessions costs no extra query on
 * most requests. A renamed connection shows its new name within that minute; nothing decides access by it.
 */
import { eq } from 'drizzle-orm'
import { ssoConnections } from '../../../db/schema'
import type { Database } from '../db/client'

const TTL_MS = 60_000
const MAX_ENTRIES = 1000
const cache = new Map<string, { name: string | null; expiresAtMs: number }>()

/** The display name of a connection, or null when it no longer exists. */
export async function getConnectionDisplayName(db: Database, connectionId: string, nowMs = Date.now()): Promise<string | null> {
  const cached = cache.get(connectionId)
  if (cached && cached.expiresAtMs > nowMs) return cached.name
  const [row] = await db.select({ name: ssoConnections.displayName }).from(ssoConnections).where(eq(ssoConnections.id, connectionId)).limit(1)
  if (cache.size >= MAX_ENTRIES) cache.clear()
  cache.set(connectionId, { name: row?.name ?? null, expiresAtMs: nowMs + TTL_MS })
  return row?.name ?? null
}
