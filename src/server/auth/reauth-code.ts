/**
 * Server-only: step-up with a TOTP code (SPEC §3, issue 4). A user without a confirmed factor
 * cannot re-authenticate with a code.
 */
import type { User } from '../../../db/schema'
import type { Database } from '../db/client'
import { verifyTotpCode } from './mfa'

/**
 * True when `code` is a valid, not-yet-used TOTP code of the user's confirmed factor. The code's
 * time step is spent like at sign-in (RFC 6238 §5.2), so a code shoulder-surfed or replayed from
 * the sign-in challenge cannot also be used to step up.
 */
export async function verifyReauthenticationCode(db: Database, user: Pick<User, 'id' | 'mfaEnabledAt'>, code: string, now: Date): Promise<boolean> {
  if (!user.mfaEnabledAt) return false
  const result = await verifyTotpCode(db, user.id, code, now)
  return result.ok
}
