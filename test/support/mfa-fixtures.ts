/**
 * Fixtures for MFA tests. Codes come from oathtool (OATH Toolkit), an implementation independent
 * of the one under test; where it is not installed, from otpauth with a printed note.
 *
 * Time: the server accepts each 30-second step once per user, so a test that needs several codes
 * moves the app clock (`advanceClockForTests`) one step per code instead of waiting.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { Secret, TOTP } from 'otpauth'
import type { User } from '../../db/schema'
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/server/auth/mfa'
import { advanceClockForTests, now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { createTestUser, readUser, type TestUserOptions } from './auth-fixtures'

export const hasOathtool = spawnSync('oathtool', ['--version']).status === 0
if (!hasOathtool) console.warn('NOTE: oathtool is not installed; MFA tests fall back to otpauth-generated codes')

const TOTP_PERIOD_SECONDS = 30

/** The TOTP code of a base32 key at a unix time. */
export function totpCodeAt(base32Secret: string, unixSeconds: number): string {
  if (hasOathtool) {
    return execFileSync('oathtool', ['--totp', '-b', base32Secret, '--now', `@${Math.floor(unixSeconds)}`], { encoding: 'utf8' }).trim()
  }
  return TOTP.generate({ secret: Secret.fromBase32(base32Secret), algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_SECONDS, timestamp: Math.floor(unixSeconds) * 1000 })
}

/** The code at the app clock's now, shifted by whole steps. */
export function currentTotpCode(base32Secret: string, offsetSteps = 0): string {
  return totpCodeAt(base32Secret, now().getTime() / 1000 + offsetSteps * TOTP_PERIOD_SECONDS)
}

/** Moves the app clock one step forward and returns the code of the new now: a step no request has spent yet. */
export function nextTotpCode(base32Secret: string): string {
  advanceClockForTests(TOTP_PERIOD_SECONDS * 1000)
  return currentTotpCode(base32Secret)
}

/** A 6-digit string that is none of the codes the server would accept around the app clock's now. */
export function wrongTotpCode(base32Secret: string): string {
  const valid = new Set([-2, -1, 0, 1, 2].map((offset) => currentTotpCode(base32Secret, offset)))
  let candidate = 0
  while (valid.has(String(candidate).padStart(6, '0'))) candidate++
  return String(candidate).padStart(6, '0')
}

export type EnrolledFactor = { secret: string; recoveryCodes: string[] }

/** Enrolls a TOTP factor for an existing user through the store (the enrollment code's step is spent). */
export async function enrollTotpForTests(user: Pick<User, 'id' | 'email'>): Promise<EnrolledFactor> {
  const at = now()
  const enrollment = await beginTotpEnrollment(getDb(), user, at)
  const confirmed = await confirmTotpEnrollment(getDb(), user.id, totpCodeAt(enrollment.secret, at.getTime() / 1000), at)
  if (!confirmed.ok) throw new Error(`test enrollment failed: ${confirmed.reason}`)
  return { secret: enrollment.secret, recoveryCodes: confirmed.recoveryCodes }
}

/** A user with a confirmed TOTP factor and recovery codes; `user` is re-read, so `mfaEnabledAt` is set. */
export async function createMfaTestUser(options: Omit<TestUserOptions, 'isMfaEnabled'> = {}) {
  const created = await createTestUser(options)
  const factor = await enrollTotpForTests(created.user)
  const user = await readUser(created.user.id)
  if (!user) throw new Error('test user vanished')
  return { user, password: created.password, ...factor }
}
