/**
 * Server-only: emailed single-use tokens (password reset, email verification).
 *
 * A token is 32 bytes from the CSPRNG (256 bits, base64url), so guessing one is hopeless and the
 * endpoints that take one need no attempt counter. Only its SHA-256 is stored: a leaked table or
 * backup holds no usable link (OWASP ASVS 2.5.x / Forgot Password Cheat Sheet). The hash is the
 * primary key and looked up by equality; a timing difference there tells an attacker nothing,
 * because they cannot choose inputs whose hashes share a prefix with a stored one.
 *
 * Consumption is one conditional UPDATE checked by affected rows (Lucia's pattern): of two
 * concurrent uses exactly one wins, with no read-then-write window.
 */
import { sha256 } from '@oslojs/crypto/sha2'
import { encodeBase64urlNoPadding, encodeHexLowerCase } from '@oslojs/encoding'
import { and, eq, gt, isNull, lt } from 'drizzle-orm'
import { oneTimeTokens, users, type User } from '../../../db/schema'
import type { Database } from '../db/client'

export type OneTimeTokenPurpose = 'password_reset' | 'email_verification'

/** A reset link is short-lived: it grants the account to whoever holds it (OWASP Forgot Password Cheat Sheet). */
export const PASSWORD_RESET_TOKEN_TTL_SECONDS = 30 * 60
/** A verification link only proves mailbox control; a day lets people open it the next morning. */
export const EMAIL_VERIFICATION_TOKEN_TTL_SECONDS = 24 * 60 * 60

const TTL_SECONDS_BY_PURPOSE: Record<OneTimeTokenPurpose, number> = {
  password_reset: PASSWORD_RESET_TOKEN_TTL_SECONDS,
  email_verification: EMAIL_VERIFICATION_TOKEN_TTL_SECONDS,
}

const TOKEN_BYTES = 32
/** 32 bytes in unpadded base64url are exactly 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** A usable (unused, unexpired) token and its user, as read before the token is consumed. */
export type UsableOneTimeToken = { tokenHash: string; email: string; expiresAt: Date; user: User }

/** A fresh random token (never stored; it goes into the mail). */
export function generateOneTimeToken(): string {
  const bytes = new Uint8Array(TOKEN_BYTES)
  crypto.getRandomValues(bytes)
  return encodeBase64urlNoPadding(bytes)
}

/** Hex SHA-256 of a token: what the database stores and looks up. */
export function hashOneTimeToken(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)))
}

/** Whether a string has the shape of a token (anything else is refused without a query). */
export function isWellFormedOneTimeToken(token: string): boolean {
  return TOKEN_PATTERN.test(token)
}

/** How long a token of this purpose stays valid. */
export function getOneTimeTokenTtlSeconds(purpose: OneTimeTokenPurpose): number {
  return TTL_SECONDS_BY_PURPOSE[purpose]
}

/**
 * Issues a token for the user and returns it. The user's earlier unused tokens of the same purpose
 * are deleted in the same transaction, so only the newest link works. The user row is locked first
 * so two concurrent requests for one account cannot both leave a live token behind.
 */
export async function issueOneTimeToken(db: Database, input: { userId: string; purpose: OneTimeTokenPurpose; email: string }, now: Date): Promise<string> {
  const token = generateOneTimeToken()
  const expiresAt = new Date(now.getTime() + getOneTimeTokenTtlSeconds(input.purpose) * 1000)
  await db.transaction(async (tx) => {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, input.userId)).for('update')
    await deleteUnusedOneTimeTokens(tx, input.userId, input.purpose)
    await tx.insert(oneTimeTokens).values({
      tokenHash: hashOneTimeToken(token),
      userId: input.userId,
      purpose: input.purpose,
      email: input.email,
      createdAt: now,
      expiresAt,
      usedAt: null,
    })
  })
  return token
}

/**
 * The unused, unexpired token of this purpose with its user (one query), or null for anything else:
 * malformed, unknown, used, expired, or issued for another purpose.
 */
export async function getUsableOneTimeToken(db: Database, token: string, purpose: OneTimeTokenPurpose, now: Date): Promise<UsableOneTimeToken | null> {
  if (!isWellFormedOneTimeToken(token)) return null
  const [row] = await db
    .select({ tokenHash: oneTimeTokens.tokenHash, email: oneTimeTokens.email, expiresAt: oneTimeTokens.expiresAt, user: users })
    .from(oneTimeTokens)
    .innerJoin(users, eq(users.id, oneTimeTokens.userId))
    .where(
      and(
        eq(oneTimeTokens.tokenHash, hashOneTimeToken(token)),
        eq(oneTimeTokens.purpose, purpose),
        isNull(oneTimeTokens.usedAt),
        gt(oneTimeTokens.expiresAt, now),
      ),
    )
    .limit(1)
  return row ?? null
}

/**
 * Marks a token used if, at this instant, it is still unused and unexpired: true for exactly one
 * caller however many race (the UPDATE takes the row lock; a loser re-reads `used_at` and matches
 * nothing). Pass the transaction that performs the token's effect, so both commit or neither.
 */
export async function consumeOneTimeToken(db: Pick<Database, 'update'>, tokenHash: string, now: Date): Promise<boolean> {
  const [result] = await db
    .update(oneTimeTokens)
    .set({ usedAt: now })
    .where(and(eq(oneTimeTokens.tokenHash, tokenHash), isNull(oneTimeTokens.usedAt), gt(oneTimeTokens.expiresAt, now)))
  return result.affectedRows === 1
}

/** Deletes expired tokens (used or not); idempotent, safe to run on every instance. */
export async function purgeExpiredOneTimeTokens(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(oneTimeTokens).where(lt(oneTimeTokens.expiresAt, now))
  return result.affectedRows
}

/** Deletes the user's unused tokens of a purpose (a newer link replaces them; a password change could call it too). */
export async function deleteUnusedOneTimeTokens(db: Pick<Database, 'delete'>, userId: string, purpose: OneTimeTokenPurpose): Promise<number> {
  const [result] = await db
    .delete(oneTimeTokens)
    .where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose), isNull(oneTimeTokens.usedAt)))
  return result.affectedRows
}

/** What a token is at this instant, read without consuming it (see `inspectOneTimeToken`). */
export type OneTimeTokenInspection =
  | { state: 'unknown' }
  | { state: 'usable' | 'used' | 'expired'; email: string; user: User }

/**
 * Reads a token of this purpose without consuming it: unknown (malformed, never issued, purged, or
 * issued for another purpose), used, expired, or usable, with its user. For pages that must tell
 * the truth about a link before asking for input; the effect itself still goes through
 * `getUsableOneTimeToken` + `consumeOneTimeToken`.
 */
export async function inspectOneTimeToken(db: Database, token: string, purpose: OneTimeTokenPurpose, now: Date): Promise<OneTimeTokenInspection> {
  if (!isWellFormedOneTimeToken(token)) return { state: 'unknown' }
  const [row] = await db
    .select({ email: oneTimeTokens.email, expiresAt: oneTimeTokens.expiresAt, usedAt: oneTimeTokens.usedAt, user: users })
    .from(oneTimeTokens)
    .innerJoin(users, eq(users.id, oneTimeTokens.userId))
    .where(and(eq(oneTimeTokens.tokenHash, hashOneTimeToken(token)), eq(oneTimeTokens.purpose, purpose)))
    .limit(1)
  if (!row) return { state: 'unknown' }
  const state = row.usedAt !== null ? 'used' : row.expiresAt.getTime() <= now.getTime() ? 'expired' : 'usable'
  return { state, email: row.email, user: row.user }
}
