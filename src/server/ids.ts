/** Server-only: random identifiers. */
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'

/** 128 random bits from the CSPRNG as 26 lower-case base32 characters (sessions, users, orgs). */
export function generateId(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return encodeBase32LowerCaseNoPadding(bytes)
}
