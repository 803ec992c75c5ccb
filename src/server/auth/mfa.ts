/**
 * Server-only: TOTP factors and recovery codes in the database (SPEC §5). Pure code math lives in
 * `totp.ts` and `recovery-codes.ts`; this module owns the state that makes codes single-use.
 *
 * Concurrency model:
 * - Hot paths (a code at sign-in, a recovery code) never read-then-write: they consume with one
 *   conditional UPDATE and check affectedRows, so of two concurrent requests with the same code
 *   exactly one wins, on any number of instances (Lucia's single-use pattern; OWASP ASVS 2.8.4).
 * - Rare paths that replace several rows (enroll, confirm, regenerate, disable) run in a
 *   transaction that first locks the user's row, so two of them for one user serialise
 *   (`inUserMfaTransaction`). That transaction runs at READ COMMITTED: the user-row lock already
 *   gives the per-user ordering, and REPEATABLE READ's gap locks on `user_id` ranges (a DELETE or
 *   locking SELECT that matches nothing still locks the gap) made *different* users' enrollments
 *   deadlock on each other's inserts (issue 11 item 9; ~7% of concurrent `mfa.beginEnrollment`).
 *
 * Nothing here counts failures or writes audit events: the caller owns the rate-limit → verify →
 * audit ladder (STYLE principle 7) and gets typed results to drive it.
 */
import { and, count, desc, eq, inArray, isNotNull, isNull, lt, ne, or } from 'drizzle-orm'
import { recoveryCodes, totpCredentials, users } from '../../../db/schema'
import { decryptSecret, encryptSecret, getSecretBoxKeyRing, isSealedWithOldKey } from '../crypto/secret-box'
import type { Database } from '../db/client'
import { now as clockNow } from '../clock'
import { generateId } from '../ids'
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes'
import { createTotpQrCodeSvg, createTotpUri, encodeTotpSecret, generateTotpSecret, getMatchingTotpStep, normalizeTotpCode } from './totp'

/** HKDF purpose label: TOTP secrets get a key of their own, unrelated to any other use of APP_SECRET. */
const TOTP_SECRET_PURPOSE = 'totp-secret'
/** HKDF purpose of the recovery-code HMAC key (a different key from the TOTP encryption key). */
export const RECOVERY_CODE_KEY_PURPOSE = 'recovery-code-hmac'

/** The recovery-code HMAC keys, current first; previous ones keep codes issued before a rotation valid. */
function recoveryCodeKeys(): Uint8Array[] {
  const ring = getSecretBoxKeyRing(RECOVERY_CODE_KEY_PURPOSE)
  return [ring.current.key, ...ring.previous.map((key) => key.key)]
}

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0]

/** What the enrolling user needs once: the manual key, the URI and its QR code. Never shown again. */
export type TotpEnrollment = { secret: string; otpauthUri: string; qrCodeSvg: string }

export type ConfirmTotpEnrollmentResult =
  | { ok: true; recoveryCodes: string[]; enabledAt: Date }
  | { ok: false; reason: 'invalid-code' | 'no-pending-enrollment' }

export type TotpVerification =
  | { ok: true; step: number }
  /** `replayed`: the code was right but its step is already spent (by an earlier or concurrent request). */
  | { ok: false; reason: 'invalid-code' | 'replayed' | 'no-factor' }

export type MfaStatus = { isEnabled: boolean; enabledAt: Date | null; recoveryCodesRemaining: number }

/**
 * Starts (or restarts) enrollment: replaces any unconfirmed factor with a new sealed secret. A
 * confirmed factor keeps working until the new one is confirmed, so a re-enrollment abandoned
 * half-way never locks the user out.
 */
export async function beginTotpEnrollment(db: Database, user: { id: string; email: string }, now = clockNow()): Promise<TotpEnrollment> {
  const secret = generateTotpSecret()
  const sealed = encryptSecret(getSecretBoxKeyRing(TOTP_SECRET_PURPOSE), secret, totpSecretAssociatedData(user.id))
  await inUserMfaTransaction(db, user.id, async (tx) => {
    // Update-or-insert by primary key: at most one pending row per user, and no write ever locks
    // a range of `user_id` values that another user's insert could need.
    const pendingRows = await tx
      .select({ id: totpCredentials.id })
      .from(totpCredentials)
      .where(and(eq(totpCredentials.userId, user.id), isNull(totpCredentials.confirmedAt)))
    const [kept, ...extra] = pendingRows
    const replacement = { encryptedSecret: sealed.ciphertext, keyId: sealed.keyId, createdAt: now, lastUsedStep: null }
    if (kept) await tx.update(totpCredentials).set(replacement).where(eq(totpCredentials.id, kept.id))
    else await tx.insert(totpCredentials).values({ id: generateId(), userId: user.id, confirmedAt: null, ...replacement })
    // Rows left by an older release that kept several pending factors.
    if (extra.length > 0) await tx.delete(totpCredentials).where(inArray(totpCredentials.id, extra.map((row) => row.id)))
  })
  const otpauthUri = createTotpUri({ secret, accountName: user.email })
  return { secret: encodeTotpSecret(secret), otpauthUri, qrCodeSvg: await createTotpQrCodeSvg(otpauthUri) }
}

/**
 * Activates the pending factor once the user proves a code from it: the factor is confirmed (its
 * step recorded as spent), any older factor is deleted, `users.mfa_enabled_at` is set, and a new set
 * of recovery codes replaces the old one. The plain codes are returned here and nowhere else.
 * A wrong code changes nothing.
 */
export async function confirmTotpEnrollment(db: Database, userId: string, code: string, now = clockNow()): Promise<ConfirmTotpEnrollmentResult> {
  if (normalizeTotpCode(code) === null) return { ok: false, reason: 'invalid-code' }
  return inUserMfaTransaction(db, userId, async (tx): Promise<ConfirmTotpEnrollmentResult | null> => {
    const [pending] = await tx
      .select()
      .from(totpCredentials)
      .where(and(eq(totpCredentials.userId, userId), isNull(totpCredentials.confirmedAt)))
      .orderBy(desc(totpCredentials.createdAt))
      .limit(1)
      .for('update')
    if (!pending) return { ok: false, reason: 'no-pending-enrollment' }

    const secret = openTotpSecret(userId, pending)
    const step = getMatchingTotpStep(secret, code, { now })
    if (step === null) return { ok: false, reason: 'invalid-code' }

    await tx.update(totpCredentials).set({ confirmedAt: now, lastUsedStep: step }).where(eq(totpCredentials.id, pending.id))
    await tx.delete(totpCredentials).where(and(eq(totpCredentials.userId, userId), ne(totpCredentials.id, pending.id)))
    await tx.update(users).set({ mfaEnabledAt: now, updatedAt: now }).where(eq(users.id, userId))
    const plainCodes = await replaceRecoveryCodes(tx, userId, now)
    return { ok: true, recoveryCodes: plainCodes, enabledAt: now }
  }).then((result) => result ?? { ok: false, reason: 'no-pending-enrollment' })
}

/**
 * Checks a code against the user's confirmed factor and spends its time step. Replay protection
 * (RFC 6238 §5.2: a verifier must not accept the second attempt of the same OTP): the step only
 * advances through `UPDATE … WHERE last_used_step IS NULL OR last_used_step < ?`, and only the
 * request whose UPDATE changed the row succeeds. Codes of earlier steps than the last accepted
 * one are spent as well.
 */
export async function verifyTotpCode(db: Database, userId: string, code: string, now = clockNow()): Promise<TotpVerification> {
  if (normalizeTotpCode(code) === null) return { ok: false, reason: 'invalid-code' }
  const [credential] = await db
    .select()
    .from(totpCredentials)
    .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)))
    .limit(1)
  if (!credential) return { ok: false, reason: 'no-factor' }

  const secret = openTotpSecret(userId, credential)
  const step = getMatchingTotpStep(secret, code, { now, afterStep: credential.lastUsedStep })
  if (step === null) {
    const isSpentStep = getMatchingTotpStep(secret, code, { now }) !== null
    return { ok: false, reason: isSpentStep ? 'replayed' : 'invalid-code' }
  }

  const [result] = await db
    .update(totpCredentials)
    .set({ lastUsedStep: step })
    .where(
      and(
        eq(totpCredentials.id, credential.id),
        or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
      ),
    )
  // Lost the race: a concurrent request spent this step (or a later one) between our read and write.
  if (result.affectedRows !== 1) return { ok: false, reason: 'replayed' }

  await resealIfOldKey(db, userId, credential, secret)
  return { ok: true, step }
}

/**
 * Spends one recovery code. Returns how many unused codes remain, or null when the code is
 * malformed, unknown, another user's, or already used (including by a concurrent request: the
 * UPDATE's `used_at IS NULL` guard lets exactly one of them through).
 */
export async function consumeRecoveryCode(db: Database, userId: string, code: string, now = clockNow()): Promise<{ remaining: number } | null> {
  const normalized = normalizeRecoveryCode(code)
  if (normalized === null) return null
  const [result] = await db
    .update(recoveryCodes)
    .set({ usedAt: now })
    .where(and(eq(recoveryCodes.userId, userId), inArray(recoveryCodes.codeHash, recoveryCodeKeys().map((key) => hashRecoveryCode(normalized, key))), isNull(recoveryCodes.usedAt)))
  if (result.affectedRows === 0) return null
  return { remaining: await countUnusedRecoveryCodes(db, userId) }
}

/** Replaces the user's whole set of recovery codes; returns the new plain codes, or null when MFA is not enabled. */
export async function regenerateRecoveryCodes(db: Database, userId: string, now = clockNow()): Promise<string[] | null> {
  return inUserMfaTransaction(db, userId, async (tx) => {
    if (!(await hasConfirmedFactor(tx, userId))) return null
    return replaceRecoveryCodes(tx, userId, now)
  })
}

/** Removes every factor (pending too) and recovery code and clears `users.mfa_enabled_at`; true when MFA was enabled. */
export async function disableTotp(db: Database, userId: string, now = clockNow()): Promise<boolean> {
  const result = await inUserMfaTransaction(db, userId, async (tx) => {
    const wasEnabled = await hasConfirmedFactor(tx, userId)
    await tx.delete(totpCredentials).where(eq(totpCredentials.userId, userId))
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId))
    // Only an account that had MFA changes: a reset of one without a factor writes nothing.
    await tx.update(users).set({ mfaEnabledAt: null, updatedAt: now }).where(and(eq(users.id, userId), isNotNull(users.mfaEnabledAt)))
    return wasEnabled
  })
  return result ?? false
}

/** The user's MFA state for settings pages; an unknown user reads as "not enabled". */
export async function getMfaStatus(db: Database, userId: string): Promise<MfaStatus> {
  const [user] = await db.select({ mfaEnabledAt: users.mfaEnabledAt }).from(users).where(eq(users.id, userId)).limit(1)
  const enabledAt = user?.mfaEnabledAt ?? null
  return {
    isEnabled: enabledAt !== null,
    enabledAt,
    recoveryCodesRemaining: enabledAt === null ? 0 : await countUnusedRecoveryCodes(db, userId),
  }
}

/**
 * The associated data a TOTP secret is sealed with: the owning user. Someone able to write the
 * table cannot move their own known secret into a victim's row and then pass the victim's MFA
 * (row-swap attack): the copied ciphertext fails GCM authentication.
 */
function totpSecretAssociatedData(userId: string): string {
  return `totp_credentials.user_id=${userId}`
}

function openTotpSecret(userId: string, credential: { encryptedSecret: string; keyId: string }): Uint8Array {
  return decryptSecret(
    getSecretBoxKeyRing(TOTP_SECRET_PURPOSE),
    { keyId: credential.keyId, ciphertext: credential.encryptedSecret },
    totpSecretAssociatedData(userId),
  )
}

/**
 * Key rotation without a batch job: after a successful check, a secret still sealed under a
 * previous APP_SECRET is re-sealed under the current one. Conditional on the old key id, so two
 * concurrent re-seals write once; failing to re-seal is harmless (the old key still opens it).
 */
async function resealIfOldKey(db: Database, userId: string, credential: { id: string; keyId: string }, secret: Uint8Array): Promise<void> {
  const ring = getSecretBoxKeyRing(TOTP_SECRET_PURPOSE)
  if (!isSealedWithOldKey(ring, credential.keyId)) return
  const sealed = encryptSecret(ring, secret, totpSecretAssociatedData(userId))
  await db
    .update(totpCredentials)
    .set({ encryptedSecret: sealed.ciphertext, keyId: sealed.keyId })
    .where(and(eq(totpCredentials.id, credential.id), eq(totpCredentials.keyId, credential.keyId)))
}

/**
 * Runs `work` in a READ COMMITTED transaction that first takes `SELECT … FOR UPDATE` on the user's
 * row: multi-row MFA changes of one user serialise on that lock, and those of different users
 * never wait on each other (no gap locks at READ COMMITTED). Null, without running `work`, when
 * the user does not exist.
 */
async function inUserMfaTransaction<T>(db: Database, userId: string, work: (tx: Transaction) => Promise<T>): Promise<T | null> {
  return db.transaction(
    async (tx) => {
      const [row] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update')
      if (row === undefined) return null
      return work(tx)
    },
    { isolationLevel: 'read committed' },
  )
}

async function hasConfirmedFactor(tx: Transaction, userId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: totpCredentials.id })
    .from(totpCredentials)
    .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)))
    .limit(1)
  return row !== undefined
}

async function replaceRecoveryCodes(tx: Transaction, userId: string, now: Date): Promise<string[]> {
  const generated = generateRecoveryCodes(recoveryCodeKeys()[0]!)
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId))
  await tx.insert(recoveryCodes).values(
    generated.map(({ codeHash }) => ({ id: generateId(), userId, codeHash, createdAt: now, usedAt: null })),
  )
  return generated.map(({ code }) => code)
}

async function countUnusedRecoveryCodes(db: Database | Transaction, userId: string): Promise<number> {
  const [row] = await db
    .select({ value: count() })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))
  return row?.value ?? 0
}
