/**
 * Server-only: password hashing with argon2id (OWASP Password Storage Cheat Sheet, RFC 9106).
 * `@node-rs/argon2` hashes on libuv's thread pool, so a burst of sign-ins does not block the event
 * loop. Parameters are explicit so a library default change can never weaken them silently.
 */
import { hash, verify } from '@node-rs/argon2'
import { availableParallelism } from 'node:os'

/** `Algorithm.Argon2id` of @node-rs/argon2 (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2

/** m=19 MiB, t=2, p=1: OWASP's minimum argon2id profile (~10 ms per hash on one core here). */
export const ARGON2_OPTIONS = {
  algorithm: ARGON2ID,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const

/**
 * At most this many argon2 runs at once. Each run keeps a core busy for ~10 ms; left to libuv's four
 * threads, a burst of sign-ins on a two-core machine takes every core and stalls the event loop
 * that serves everyone else (a cheap denial of service). Keeping one core for the event loop bounds
 * that; excess hashes wait their turn in a FIFO queue.
 */
const MAX_CONCURRENT_HASHES = Math.max(1, availableParallelism() - 1)

let runningHashes = 0
const waitingHashes: Array<() => void> = []

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (runningHashes >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waitingHashes.push(resolve))
  else runningHashes++
  try {
    return await work()
  } finally {
    const next = waitingHashes.shift()
    if (next) next()
    else runningHashes--
  }
}

/** Hashes a password into a PHC string (salt included, generated per call from the CSPRNG). */
export function hashPassword(password: string): Promise<string> {
  return withHashSlot(() => hash(password, ARGON2_OPTIONS))
}

/** Verifies a password against a stored PHC string; a malformed hash counts as a mismatch. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await withHashSlot(() => verify(passwordHash, password))
  } catch {
    return false
  }
}

let dummyHash: Promise<string> | undefined

/**
 * Burns the same work as a real verification. Sign-in calls it for unknown emails so response
 * time does not reveal which accounts exist (user enumeration, OWASP ASVS 2.2.x / WSTG-IDNT-04).
 */
export async function verifyAgainstDummyHash(password: string): Promise<false> {
  dummyHash ??= hashPassword('gatehouse-dummy-password-for-timing-equalisation')
  await verifyPassword(await dummyHash, password)
  return false
}

/** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`: the PHC string format argon2 writes. */
const PHC_PATTERN = /^\$(argon2(?:id|i|d))\$(?:v=(\d+)\$)?m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/
const ARGON2_VERSION_1_3 = 19

/**
 * True when a stored hash was made with weaker settings than `ARGON2_OPTIONS` (another argon2
 * variant, an older version, less memory, fewer passes, less parallelism or a shorter output) or
 * cannot be read at all. The sign-in ladder rehashes such a password right after it verifies,
 * while the plain password is in hand (OWASP Password Storage Cheat Sheet, "upgrading the work
 * factor"). Stronger settings than configured are left alone.
 */
export function needsRehash(passwordHash: string): boolean {
  const match = PHC_PATTERN.exec(passwordHash)
  if (!match) return true
  const [, variant, version, memoryCost, timeCost, parallelism, , digest] = match
  const outputBytes = Math.floor((digest!.length * 3) / 4)
  return (
    variant !== 'argon2id' ||
    Number(version ?? 16) < ARGON2_VERSION_1_3 ||
    Number(memoryCost) < ARGON2_OPTIONS.memoryCost ||
    Number(timeCost) < ARGON2_OPTIONS.timeCost ||
    Number(parallelism) < ARGON2_OPTIONS.parallelism ||
    outputBytes < ARGON2_OPTIONS.outputLen
  )
}
