/**
 * Server-only: the lifecycle of `sso_login_flows` rows that is independent of the protocol (ADR 010).
 * Creating and consuming a flow belongs to the sign-in flow itself; this module owns its cleanup.
 */
import { lt } from 'drizzle-orm'
import { ssoLoginFlows } from '../../../db/schema'
import type { Database } from '../db/client'

/** Deletes every flow past its expiry, consumed or not; run on a schedule by every instance. */
export async function purgeExpiredSsoLoginFlows(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(ssoLoginFlows).where(lt(ssoLoginFlows.expiresAt, now))
  return result.affectedRows
}
