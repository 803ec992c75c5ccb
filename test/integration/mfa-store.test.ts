/**
 * The MFA store (src/server/auth/mfa.ts) against the real database: enrollment, single-use TOTP
 * steps and recovery codes under concurrency, sealed secrets, key rotation. Codes come from
 * oathtool (OATH Toolkit), an implementation independent of the one under test.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHmac, hkdfSync } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { Secret, TOTP } from 'otpauth'
import { afterEach, describe, expect, it } from 'vitest'
import { recoveryCodes, totpCredentials, users } from '../../db/schema'
import {
  beginTotpEnrollment,
  confirmTotpEnrollment,
  consumeRecoveryCode,
  disableTotp,
  getMfaStatus,
  regenerateRecoveryCodes,
  verifyTotpCode,
} from '../../src/server/auth/mfa'
import { SecretBoxError } from '../../src/server/crypto/secret-box'
import { getDatabase, getDb } from '../../src/server/db/client'
import { getServerEnv, resetServerEnvForTests } from '../../src/server/env'
import { generateId } from '../../src/server/ids'
import { createUser } from '../../src/server/users/users'


/**
 * What the store should hold for a code: HMAC-SHA256 under a key derived from APP_SECRET, computed
 * here independently of the app's own code (node's HKDF and HMAC, the documented derivation).
 */
function expectedRecoveryCodeHash(normalizedCode: string): string {
  const key = new Uint8Array(hkdfSync('sha256', getServerEnv().appSecret, new Uint8Array(0), 'gatehouse/secret-box/v1/recovery-code-hmac', 32))
  return createHmac('sha256', key).update(normalizedCode).digest('hex')
}

const hasOathtool = spawnSync('oathtool', ['--version']).status === 0
if (!hasOathtool) console.warn('NOTE: oathtool is not installed; mfa-store tests fall back to otpauth-generated codes')

/** The TOTP code of a base32 key at a unix time: from oathtool when installed. */
function codeAt(base32Secret: string, unixSeconds: number): string {
  if (hasOathtool) {
    return execFileSync('oathtool', ['--totp', '-b', base32Secret, '--now', `@${unixSeconds}`], { encoding: 'utf8' }).trim()
  }
  return TOTP.generate({ secret: Secret.fromBase32(base32Secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: unixSeconds * 1000 })
}

/** A fixed instant in the middle of a 30 s step, so ±1 step never depends on the wall clock. */
const T0 = 1_900_000_005
const at = (unixSeconds: number) => new Date(unixSeconds * 1000)
const stepOf = (unixSeconds: number) => Math.floor(unixSeconds / 30)

const db = () => getDb()

async function makeUser() {
  return createUser(db(), { email: `mfa-${generateId()}@example.com`, name: 'MFA Tester', passwordHash: null, role: 'member', organizationId: null })
}

async function credentialRows(userId: string) {
  return db().select().from(totpCredentials).where(eq(totpCredentials.userId, userId))
}

async function recoveryRows(userId: string) {
  return db().select().from(recoveryCodes).where(eq(recoveryCodes.userId, userId))
}

async function userRow(userId: string) {
  const [row] = await db().select().from(users).where(eq(users.id, userId))
  return row!
}

/** Everything MFA-related the database holds for a user, for "nothing was written" assertions. */
async function mfaSnapshot(userId: string) {
  const user = await userRow(userId)
  return { credentials: await credentialRows(userId), recovery: await recoveryRows(userId), mfaEnabledAt: user.mfaEnabledAt, updatedAt: user.updatedAt }
}

/** A user with a confirmed factor (enrolled at T0), its base32 key and recovery codes. */
async function makeEnrolledUser(unixSeconds = T0) {
  const user = await makeUser()
  const enrollment = await beginTotpEnrollment(db(), user, at(unixSeconds))
  const confirmed = await confirmTotpEnrollment(db(), user.id, codeAt(enrollment.secret, unixSeconds), at(unixSeconds))
  if (!confirmed.ok) throw new Error(`enrollment failed: ${confirmed.reason}`)
  return { user, secret: enrollment.secret, recoveryCodes: confirmed.recoveryCodes }
}

/**
 * Forces the worst interleaving of a race: holds a row lock while `start` launches requests, waits
 * until `waiting` of them are blocked in an UPDATE of `table` (so every one of them has already
 * read the row as unspent), then releases the lock and returns their results.
 */
async function raceThroughRowLock<T>(table: string, rowId: string, waiting: number, start: () => Promise<T>[]): Promise<T[]> {
  const connection = await getDatabase().pool.getConnection()
  try {
    await connection.beginTransaction()
    await connection.query(`SELECT id FROM \`${table}\` WHERE id = ? FOR UPDATE`, [rowId])
    const results = Promise.all(start())
    const deadline = Date.now() + 5_000
    for (;;) {
      const [rows] = await connection.query(
        'SELECT COUNT(*) AS blocked FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND DB = DATABASE() AND INFO LIKE ?',
        [`update \`${table}\`%`],
      )
      if (Number((rows as Array<{ blocked: number }>)[0]!.blocked) >= waiting) break
      if (Date.now() > deadline) throw new Error(`requests never blocked on the ${table} row lock`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await connection.commit()
    return await results
  } finally {
    connection.release()
  }
}

/** A 6-digit string that is none of the codes valid within ±1 step of `unixSeconds`. */
function wrongCodeAt(base32Secret: string, unixSeconds: number): string {
  const valid = new Set([-1, 0, 1].map((delta) => codeAt(base32Secret, unixSeconds + delta * 30)))
  let candidate = 0
  while (valid.has(String(candidate).padStart(6, '0'))) candidate++
  return String(candidate).padStart(6, '0')
}

describe('TOTP enrollment', () => {
  it('begin stores only a sealed secret and returns the key, URI and QR code once', async () => {
    const user = await makeUser()
    const enrollment = await beginTotpEnrollment(db(), user, at(T0))

    expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/)
    const uri = new URL(enrollment.otpauthUri)
    expect(decodeURIComponent(uri.pathname)).toBe(`/Gatehouse:${user.email}`)
    expect(uri.searchParams.get('secret')).toBe(enrollment.secret)
    expect(enrollment.qrCodeSvg).toMatch(/^<svg/)

    const [row, ...others] = await credentialRows(user.id)
    expect(others).toHaveLength(0)
    expect(row!.confirmedAt).toBeNull()
    expect(row!.lastUsedStep).toBeNull()
    expect(row!.keyId).toMatch(/^[0-9a-f]{8}$/)
    const rawSecret = Secret.fromBase32(enrollment.secret).bytes
    for (const encoding of [enrollment.secret, Buffer.from(rawSecret).toString('hex'), Buffer.from(rawSecret).toString('base64url')]) {
      expect(row!.encryptedSecret).not.toContain(encoding)
    }
    // iv(12) + 20-byte secret + tag(16), base64url
    expect(Buffer.from(row!.encryptedSecret, 'base64url')).toHaveLength(48)

    expect((await userRow(user.id)).mfaEnabledAt).toBeNull()
    expect(await getMfaStatus(db(), user.id)).toEqual({ isEnabled: false, enabledAt: null, recoveryCodesRemaining: 0 })
  })

  it('beginning again replaces the pending secret; only the newest one confirms', async () => {
    const user = await makeUser()
    const first = await beginTotpEnrollment(db(), user, at(T0))
    const second = await beginTotpEnrollment(db(), user, at(T0))
    expect(second.secret).not.toBe(first.secret)
    expect(await credentialRows(user.id)).toHaveLength(1)

    expect(await confirmTotpEnrollment(db(), user.id, codeAt(first.secret, T0), at(T0))).toEqual({ ok: false, reason: 'invalid-code' })
    expect((await confirmTotpEnrollment(db(), user.id, codeAt(second.secret, T0), at(T0))).ok).toBe(true)
  })

  it('a wrong or malformed code at confirmation changes nothing', async () => {
    const user = await makeUser()
    const enrollment = await beginTotpEnrollment(db(), user, at(T0))
    const before = await mfaSnapshot(user.id)

    for (const code of [wrongCodeAt(enrollment.secret, T0), codeAt(enrollment.secret, T0 - 60), 'abcdef', '', '１２３４５６']) {
      expect(await confirmTotpEnrollment(db(), user.id, code, at(T0))).toEqual({ ok: false, reason: 'invalid-code' })
    }
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })

  it('confirming without a pending enrollment is refused (also for an unknown user)', async () => {
    const user = await makeUser()
    expect(await confirmTotpEnrollment(db(), user.id, '123456', at(T0))).toEqual({ ok: false, reason: 'no-pending-enrollment' })
    expect(await confirmTotpEnrollment(db(), generateId(), '123456', at(T0))).toEqual({ ok: false, reason: 'no-pending-enrollment' })
    expect(await credentialRows(user.id)).toHaveLength(0)
  })

  it('a valid code activates the factor, spends its step and issues 10 hashed recovery codes once', async () => {
    const user = await makeUser()
    const enrollment = await beginTotpEnrollment(db(), user, at(T0))
    const confirmed = await confirmTotpEnrollment(db(), user.id, codeAt(enrollment.secret, T0 + 30), at(T0))
    if (!confirmed.ok) throw new Error(confirmed.reason)

    expect(confirmed.recoveryCodes).toHaveLength(10)
    expect(confirmed.enabledAt).toEqual(at(T0))
    const [credential] = await credentialRows(user.id)
    expect(credential!.confirmedAt).toEqual(at(T0))
    expect(credential!.lastUsedStep).toBe(stepOf(T0) + 1)
    expect((await userRow(user.id)).mfaEnabledAt).toEqual(at(T0))

    const stored = await recoveryRows(user.id)
    expect(stored).toHaveLength(10)
    const expectedHashes = confirmed.recoveryCodes.map((code) => expectedRecoveryCodeHash(code.replaceAll('-', '')))
    expect(stored.map((row) => row.codeHash).sort()).toEqual(expectedHashes.sort())
    for (const row of stored) {
      expect(row.usedAt).toBeNull()
      for (const code of confirmed.recoveryCodes) expect(row.codeHash).not.toContain(code.replaceAll('-', ''))
    }
    expect(await getMfaStatus(db(), user.id)).toEqual({ isEnabled: true, enabledAt: at(T0), recoveryCodesRemaining: 10 })
  })

  it('replayed enrollment code: the code that confirmed the factor does not also pass the challenge', async () => {
    const user = await makeUser()
    const enrollment = await beginTotpEnrollment(db(), user, at(T0))
    const code = codeAt(enrollment.secret, T0)
    expect((await confirmTotpEnrollment(db(), user.id, code, at(T0))).ok).toBe(true)
    expect(await verifyTotpCode(db(), user.id, code, at(T0))).toEqual({ ok: false, reason: 'replayed' })
  })

  it('concurrent confirmations with the same code: exactly one activates, one set of recovery codes exists', async () => {
    const user = await makeUser()
    const enrollment = await beginTotpEnrollment(db(), user, at(T0))
    const code = codeAt(enrollment.secret, T0)
    const results = await Promise.all([1, 2, 3].map(() => confirmTotpEnrollment(db(), user.id, code, at(T0))))
    const winners = results.filter((result) => result.ok)
    expect(winners).toHaveLength(1)
    expect(results.filter((result) => !result.ok)).toEqual([
      { ok: false, reason: 'no-pending-enrollment' },
      { ok: false, reason: 'no-pending-enrollment' },
    ])
    const stored = await recoveryRows(user.id)
    expect(stored).toHaveLength(10)
    const winnerHashes = (winners[0] as { recoveryCodes: string[] }).recoveryCodes.map((c) => expectedRecoveryCodeHash(c.replaceAll('-', '')))
    expect(stored.map((row) => row.codeHash).sort()).toEqual(winnerHashes.sort())
  })

  it('re-enrollment: the old factor works until the new one is confirmed, then it and its recovery codes are gone', async () => {
    const { user, secret: oldSecret, recoveryCodes: oldCodes } = await makeEnrolledUser(T0)
    const renewal = await beginTotpEnrollment(db(), user, at(T0 + 30))
    expect(await credentialRows(user.id)).toHaveLength(2)
    // Abandoned half-way, the old factor must still let the user in.
    expect(await verifyTotpCode(db(), user.id, codeAt(oldSecret, T0 + 30), at(T0 + 30))).toEqual({ ok: true, step: stepOf(T0) + 1 })

    const confirmed = await confirmTotpEnrollment(db(), user.id, codeAt(renewal.secret, T0 + 60), at(T0 + 60))
    if (!confirmed.ok) throw new Error(confirmed.reason)
    const rows = await credentialRows(user.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.confirmedAt).toEqual(at(T0 + 60))
    expect((await userRow(user.id)).mfaEnabledAt).toEqual(at(T0 + 60))

    expect(await verifyTotpCode(db(), user.id, codeAt(oldSecret, T0 + 90), at(T0 + 90))).toEqual({ ok: false, reason: 'invalid-code' })
    expect(await consumeRecoveryCode(db(), user.id, oldCodes[0]!, at(T0 + 90))).toBeNull()
    expect(await consumeRecoveryCode(db(), user.id, confirmed.recoveryCodes[0]!, at(T0 + 90))).toEqual({ remaining: 9 })
  })
})

describe('TOTP verification', () => {
  it('accepts a current code and records its step', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, T0 + 30), at(T0 + 30))).toEqual({ ok: true, step: stepOf(T0) + 1 })
    expect((await credentialRows(user.id))[0]!.lastUsedStep).toBe(stepOf(T0) + 1)
  })

  it('window edges: T−1 and T+1 are accepted, T−2 and T+2 are refused', async () => {
    const now = T0 + 300
    const { user, secret } = await makeEnrolledUser(T0)
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, now - 60), at(now))).toEqual({ ok: false, reason: 'invalid-code' })
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, now - 30), at(now))).toEqual({ ok: true, step: stepOf(now) - 1 })
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, now + 60), at(now))).toEqual({ ok: false, reason: 'invalid-code' })
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, now + 30), at(now))).toEqual({ ok: true, step: stepOf(now) + 1 })
  })

  it('a wrong code is refused and writes nothing', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    const before = await mfaSnapshot(user.id)
    expect(await verifyTotpCode(db(), user.id, wrongCodeAt(secret, T0 + 60), at(T0 + 60))).toEqual({ ok: false, reason: 'invalid-code' })
    expect(await verifyTotpCode(db(), user.id, '12345', at(T0 + 60))).toEqual({ ok: false, reason: 'invalid-code' })
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })

  it('replayed TOTP code is refused (sequential) and the recorded step does not move', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    const code = codeAt(secret, T0 + 60)
    expect(await verifyTotpCode(db(), user.id, code, at(T0 + 60))).toEqual({ ok: true, step: stepOf(T0) + 2 })
    const before = await mfaSnapshot(user.id)
    expect(await verifyTotpCode(db(), user.id, code, at(T0 + 60))).toEqual({ ok: false, reason: 'replayed' })
    expect(await verifyTotpCode(db(), user.id, code, at(T0 + 80))).toEqual({ ok: false, reason: 'replayed' })
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })

  it('replayed TOTP code is refused: an earlier step than the last accepted one is spent too', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    const now = T0 + 300
    expect((await verifyTotpCode(db(), user.id, codeAt(secret, now + 30), at(now))).ok).toBe(true)
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, now), at(now))).toEqual({ ok: false, reason: 'replayed' })
    expect((await credentialRows(user.id))[0]!.lastUsedStep).toBe(stepOf(now) + 1)
  })

  it('replayed TOTP code is refused (concurrent): of simultaneous requests with one code exactly one wins', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    // Several rounds, each a new step, four requests at once (the pool has 10 connections).
    for (let round = 1; round <= 10; round++) {
      const now = T0 + round * 30
      const code = codeAt(secret, now)
      const results = await Promise.all([1, 2, 3, 4].map(() => verifyTotpCode(db(), user.id, code, at(now))))
      expect(results.filter((result) => result.ok)).toEqual([{ ok: true, step: stepOf(now) }])
      expect(results.filter((result) => !result.ok)).toEqual(Array(3).fill({ ok: false, reason: 'replayed' }))
      expect((await credentialRows(user.id))[0]!.lastUsedStep).toBe(stepOf(now))
    }
  })

  it('replayed TOTP code is refused (forced race): requests that all read the step as unspent still yield one winner', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    const [credential] = await credentialRows(user.id)
    const now = T0 + 30
    const code = codeAt(secret, now)
    const results = await raceThroughRowLock('totp_credentials', credential!.id, 3, () =>
      [1, 2, 3].map(() => verifyTotpCode(db(), user.id, code, at(now))),
    )
    expect(results.filter((result) => result.ok)).toEqual([{ ok: true, step: stepOf(now) }])
    expect(results.filter((result) => !result.ok)).toEqual(Array(2).fill({ ok: false, reason: 'replayed' }))
    expect((await credentialRows(user.id))[0]!.lastUsedStep).toBe(stepOf(now))
  })

  it('an unconfirmed (pending) factor does not pass the challenge', async () => {
    const user = await makeUser()
    const enrollment = await beginTotpEnrollment(db(), user, at(T0))
    const before = await mfaSnapshot(user.id)
    expect(await verifyTotpCode(db(), user.id, codeAt(enrollment.secret, T0), at(T0))).toEqual({ ok: false, reason: 'no-factor' })
    expect(await verifyTotpCode(db(), generateId(), '123456', at(T0))).toEqual({ ok: false, reason: 'no-factor' })
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })

  it("row-swap attack: an attacker's known secret copied into the victim's row is refused", async () => {
    const victim = await makeEnrolledUser(T0)
    const attacker = await makeEnrolledUser(T0)
    const [attackerRow] = await credentialRows(attacker.user.id)
    await db()
      .update(totpCredentials)
      .set({ encryptedSecret: attackerRow!.encryptedSecret, keyId: attackerRow!.keyId })
      .where(eq(totpCredentials.userId, victim.user.id))
    const before = await mfaSnapshot(victim.user.id)

    await expect(verifyTotpCode(db(), victim.user.id, codeAt(attacker.secret, T0 + 60), at(T0 + 60))).rejects.toThrow(SecretBoxError)
    expect(await mfaSnapshot(victim.user.id)).toEqual(before)
  })
})

describe('TOTP secrets across an APP_SECRET rotation', () => {
  const originalSecret = process.env.APP_SECRET
  const originalPrevious = process.env.APP_SECRET_PREVIOUS

  afterEach(() => {
    process.env.APP_SECRET = originalSecret
    if (originalPrevious === undefined) delete process.env.APP_SECRET_PREVIOUS
    else process.env.APP_SECRET_PREVIOUS = originalPrevious
    resetServerEnvForTests()
  })

  function rotateAppSecret(options: { keepPrevious: boolean }) {
    const oldSecret = Buffer.from(getServerEnv().appSecret).toString('base64url')
    process.env.APP_SECRET = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
    if (options.keepPrevious) process.env.APP_SECRET_PREVIOUS = oldSecret
    else delete process.env.APP_SECRET_PREVIOUS
    resetServerEnvForTests()
  }

  it('a secret sealed under the previous APP_SECRET still verifies and is re-sealed under the new key', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    const [before] = await credentialRows(user.id)

    rotateAppSecret({ keepPrevious: true })
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, T0 + 30), at(T0 + 30))).toEqual({ ok: true, step: stepOf(T0) + 1 })
    const [after] = await credentialRows(user.id)
    expect(after!.keyId).not.toBe(before!.keyId)
    expect(after!.encryptedSecret).not.toBe(before!.encryptedSecret)
    expect(after!.lastUsedStep).toBe(stepOf(T0) + 1)

    // Re-sealed: it no longer needs the old secret.
    delete process.env.APP_SECRET_PREVIOUS
    resetServerEnvForTests()
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, T0 + 60), at(T0 + 60))).toEqual({ ok: true, step: stepOf(T0) + 2 })
  })

  it('without the previous secret configured, an old-key secret fails loudly and nothing is written', async () => {
    const { user, secret } = await makeEnrolledUser(T0)
    const before = await mfaSnapshot(user.id)
    rotateAppSecret({ keepPrevious: false })
    await expect(verifyTotpCode(db(), user.id, codeAt(secret, T0 + 30), at(T0 + 30))).rejects.toMatchObject({ name: 'SecretBoxError', reason: 'unknown-key' })
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })
})

describe('recovery codes', () => {
  it('a code is accepted once, in any spelling, and tells how many remain', async () => {
    const { user, recoveryCodes: codes } = await makeEnrolledUser(T0)
    expect(await consumeRecoveryCode(db(), user.id, codes[0]!, at(T0 + 10))).toEqual({ remaining: 9 })
    expect(await consumeRecoveryCode(db(), user.id, ` ${codes[1]!.toUpperCase().replaceAll('-', ' ')} `, at(T0 + 10))).toEqual({ remaining: 8 })
    const used = (await recoveryRows(user.id)).filter((row) => row.usedAt !== null)
    expect(used).toHaveLength(2)
    expect(used.every((row) => row.usedAt!.getTime() === at(T0 + 10).getTime())).toBe(true)
    expect(await getMfaStatus(db(), user.id)).toMatchObject({ recoveryCodesRemaining: 8 })
  })

  it('a legacy 50-bit code (xxxxx-xxxxx, issued before ADR 010) stays accepted once until the set is regenerated', async () => {
    const { user } = await makeEnrolledUser(T0)
    // An old set, as the previous release stored it: the same keyed hash of a 10-character code.
    const legacyCodes = ['7k2mq-x9d4r', 'h3v8n-p0w6t']
    await db().insert(recoveryCodes).values(
      legacyCodes.map((code) => ({ id: generateId(), userId: user.id, codeHash: expectedRecoveryCodeHash(code.replace('-', '')), createdAt: at(T0), usedAt: null })),
    )
    expect(await consumeRecoveryCode(db(), user.id, 'H3V8N-P0W6T', at(T0 + 10))).toEqual({ remaining: 11 })
    expect(await consumeRecoveryCode(db(), user.id, 'h3v8n-p0w6t', at(T0 + 20))).toBeNull()
    const fresh = await regenerateRecoveryCodes(db(), user.id, at(T0 + 30))
    expect(fresh!.every((code) => code.replaceAll('-', '').length === 24)).toBe(true)
    expect(await consumeRecoveryCode(db(), user.id, legacyCodes[0]!, at(T0 + 40))).toBeNull()
  })

  it('reused recovery code is refused and its use time is not overwritten', async () => {
    const { user, recoveryCodes: codes } = await makeEnrolledUser(T0)
    expect(await consumeRecoveryCode(db(), user.id, codes[3]!, at(T0 + 10))).toEqual({ remaining: 9 })
    const before = await mfaSnapshot(user.id)
    expect(await consumeRecoveryCode(db(), user.id, codes[3]!, at(T0 + 20))).toBeNull()
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })

  it('concurrent use of one recovery code: exactly one request wins', async () => {
    const { user, recoveryCodes: codes } = await makeEnrolledUser(T0)
    for (const code of codes.slice(0, 5)) {
      const results = await Promise.all([1, 2, 3, 4].map(() => consumeRecoveryCode(db(), user.id, code, at(T0 + 10))))
      expect(results.filter((result) => result !== null)).toHaveLength(1)
    }
    expect(await getMfaStatus(db(), user.id)).toMatchObject({ recoveryCodesRemaining: 5 })
    expect((await recoveryRows(user.id)).filter((row) => row.usedAt !== null)).toHaveLength(5)
  })

  it('concurrent use of one recovery code (forced race): requests that all read it as unused still yield one winner', async () => {
    const { user, recoveryCodes: codes } = await makeEnrolledUser(T0)
    const hash = expectedRecoveryCodeHash(codes[0]!.replaceAll('-', ''))
    const row = (await recoveryRows(user.id)).find((candidate) => candidate.codeHash === hash)
    const results = await raceThroughRowLock('recovery_codes', row!.id, 3, () =>
      [1, 2, 3].map(() => consumeRecoveryCode(db(), user.id, codes[0]!, at(T0 + 10))),
    )
    expect(results.filter((result) => result !== null)).toEqual([{ remaining: 9 }])
    expect((await recoveryRows(user.id)).filter((candidate) => candidate.usedAt !== null)).toHaveLength(1)
  })

  it("another user's recovery code is refused and nothing is written", async () => {
    const victim = await makeEnrolledUser(T0)
    const attacker = await makeEnrolledUser(T0)
    const beforeVictim = await mfaSnapshot(victim.user.id)
    const beforeAttacker = await mfaSnapshot(attacker.user.id)
    expect(await consumeRecoveryCode(db(), victim.user.id, attacker.recoveryCodes[0]!, at(T0 + 10))).toBeNull()
    expect(await mfaSnapshot(victim.user.id)).toEqual(beforeVictim)
    expect(await mfaSnapshot(attacker.user.id)).toEqual(beforeAttacker)
  })

  it('malformed input is refused without touching the database', async () => {
    const { user } = await makeEnrolledUser(T0)
    const before = await mfaSnapshot(user.id)
    for (const input of ['', 'abc', 'x'.repeat(10_000), "' OR 1=1 --"]) {
      expect(await consumeRecoveryCode(db(), user.id, input, at(T0 + 10))).toBeNull()
    }
    expect(await mfaSnapshot(user.id)).toEqual(before)
  })

  it('regeneration replaces the whole set: old codes (used or not) stop working', async () => {
    const { user, recoveryCodes: oldCodes } = await makeEnrolledUser(T0)
    await consumeRecoveryCode(db(), user.id, oldCodes[0]!, at(T0 + 10))
    const newCodes = await regenerateRecoveryCodes(db(), user.id, at(T0 + 20))
    expect(newCodes).toHaveLength(10)
    expect(newCodes!.filter((code) => oldCodes.includes(code))).toHaveLength(0)
    expect(await recoveryRows(user.id)).toHaveLength(10)
    expect(await getMfaStatus(db(), user.id)).toMatchObject({ recoveryCodesRemaining: 10 })

    expect(await consumeRecoveryCode(db(), user.id, oldCodes[1]!, at(T0 + 30))).toBeNull()
    expect(await consumeRecoveryCode(db(), user.id, newCodes![0]!, at(T0 + 30))).toEqual({ remaining: 9 })
  })

  it('regeneration for a user without MFA creates nothing', async () => {
    const user = await makeUser()
    await beginTotpEnrollment(db(), user, at(T0))
    expect(await regenerateRecoveryCodes(db(), user.id, at(T0))).toBeNull()
    expect(await regenerateRecoveryCodes(db(), generateId(), at(T0))).toBeNull()
    expect(await recoveryRows(user.id)).toHaveLength(0)
  })
})

describe('disabling TOTP', () => {
  it('removes the factor, pending enrollments and recovery codes, and clears users.mfa_enabled_at', async () => {
    const { user, secret, recoveryCodes: codes } = await makeEnrolledUser(T0)
    await beginTotpEnrollment(db(), user, at(T0 + 10)) // a pending re-enrollment goes too
    expect(await disableTotp(db(), user.id, at(T0 + 20))).toBe(true)

    expect(await credentialRows(user.id)).toHaveLength(0)
    expect(await recoveryRows(user.id)).toHaveLength(0)
    const row = await userRow(user.id)
    expect(row.mfaEnabledAt).toBeNull()
    expect(row.updatedAt).toEqual(at(T0 + 20))
    expect(await getMfaStatus(db(), user.id)).toEqual({ isEnabled: false, enabledAt: null, recoveryCodesRemaining: 0 })
    expect(await verifyTotpCode(db(), user.id, codeAt(secret, T0 + 30), at(T0 + 30))).toEqual({ ok: false, reason: 'no-factor' })
    expect(await consumeRecoveryCode(db(), user.id, codes[0]!, at(T0 + 30))).toBeNull()

    expect(await disableTotp(db(), user.id, at(T0 + 40))).toBe(false)
  })

  it("disabling one user's MFA leaves every other user's intact", async () => {
    const first = await makeEnrolledUser(T0)
    const second = await makeEnrolledUser(T0)
    const before = await mfaSnapshot(second.user.id)
    await disableTotp(db(), first.user.id, at(T0 + 20))
    expect(await mfaSnapshot(second.user.id)).toEqual(before)
  })
})
