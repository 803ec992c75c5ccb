/**
 * Server-only: step-up with a TOTP code (SPEC §3, issue 4). A user without a confirmed factor
 * cannot re-authenticate with a code.
 */
import type { User } from '../../../db/schema'
import type { Database } from '../db/client'

/** True when `code` is a valid, not-yet-used TOTP code of the user's confirmed factor. */
export async function verifyReauthenticationCode(_db: Database, user: Pick<User, 'id' | 'mfaEnabledAt'>, _code: string, _now: Date): Promise<boolean> {
  if (!user.mfaEnabledAt) return false
  // Wired to the TOTP verifier (with replay protection) by the MFA work.
  return false
}
