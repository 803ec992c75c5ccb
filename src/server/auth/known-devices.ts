/**
 * Server-only: "has this account signed in from this browser before?" — for the new-device sign-in
 * notification (OWASP ASVS 5.0 6.3.7; ADR 013) and for the lockout, where a known device keeps a
 * failure budget of its own that strangers cannot spend (OWASP "device cookies"; ADR 016). Every
 * completed sign-in (after MFA) asks `isKnownDevice`, then calls `rememberDevice`.
 *
 * Design, without a migration: a long-lived `HttpOnly` cookie per browser holding a random device
 * id and, for each account that completed a sign-in here (newest first, at most 8), a tag =
 * HMAC-SHA256(key, user id ‖ device id) truncated to 128 bits, under an HKDF key of APP_SECRET
 * (previous secrets still verify). The tags say nothing about which accounts they are for, and a
 * tag cannot be made for another account or another device id without the key. A thief with the
 * password signs in from their own browser: no tag, a mail. Clearing cookies or a new browser also
 * mails — the same trade-off the large providers make. A copied cookie defeats it, but whoever can
 * copy the owner's cookies already owns the owner's browser.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import appConfig from '../../../app.config'
import { getSecretBoxKeyRing } from '../crypto/secret-box'
import type { CookieJar } from '../http/cookies'

/** HKDF purpose of the device-tag key: its own key, unrelated to any other use of APP_SECRET. */
export const KNOWN_DEVICE_KEY_PURPOSE = 'known-device-hmac'
/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis). */
export const KNOWN_DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60
/** Accounts remembered per browser; the oldest drops out (a shared computer is not a list of users). */
export const MAX_ACCOUNTS_PER_DEVICE = 8

const TAG_BYTES = 16
const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/
const TAG_PATTERN = /^[A-Za-z0-9_-]{22}$/

type DeviceCookie = { deviceId: string; tags: string[] }

/** `__Host-<name>_device` over https, like the session cookie. */
export function getKnownDeviceCookieName(appUrl: URL): string {
  const name = `${appConfig.cookie.sessionCookieName}_device`
  return appUrl.protocol === 'https:' ? `__Host-${name}` : name
}

function parseDeviceCookie(value: string | null | undefined): DeviceCookie | null {
  if (!value || value.length > 512) return null
  const [deviceId, ...tags] = value.split('.')
  if (!deviceId || !DEVICE_ID_PATTERN.test(deviceId) || tags.length > MAX_ACCOUNTS_PER_DEVICE || !tags.every((tag) => TAG_PATTERN.test(tag))) return null
  return { deviceId, tags }
}

function deviceTag(key: Uint8Array, userId: string, deviceId: string): Buffer {
  return createHmac('sha256', key).update(`known-device:v1:${userId}:${deviceId}`, 'utf8').digest().subarray(0, TAG_BYTES)
}

/**
 * The device id of `cookieValue` when it carries a valid tag for `userId` under one of `keys`
 * (current first), else null. The id is not secret on its own: a tag for it needs the key.
 */
export function getKnownDeviceIdFromValue(cookieValue: string | null | undefined, userId: string, keys: readonly Uint8Array[]): string | null {
  const parsed = parseDeviceCookie(cookieValue)
  if (!parsed) return null
  const candidates = parsed.tags.map((tag) => Buffer.from(tag, 'base64url'))
  const isKnown = keys.some((key) => {
    const expected = deviceTag(key, userId, parsed.deviceId)
    // Every candidate is compared (no early exit on the position of a match).
    return candidates.map((candidate) => candidate.length === TAG_BYTES && timingSafeEqual(candidate, expected)).includes(true)
  })
  return isKnown ? parsed.deviceId : null
}

/** True when `cookieValue` carries a valid tag for `userId` under one of `keys` (current first). */
export function isKnownDeviceValue(cookieValue: string | null | undefined, userId: string, keys: readonly Uint8Array[]): boolean {
  return getKnownDeviceIdFromValue(cookieValue, userId, keys) !== null
}

/**
 * The cookie value after `userId` signed in here: the same device id (a fresh one when the cookie
 * is missing or malformed), this account's tag first, duplicates removed, at most 8 accounts.
 */
export function rememberDeviceValue(cookieValue: string | null | undefined, userId: string, key: Uint8Array, otherKeys: readonly Uint8Array[] = []): string {
  const parsed = parseDeviceCookie(cookieValue) ?? { deviceId: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url'), tags: [] }
  const tag = deviceTag(key, userId, parsed.deviceId).toString('base64url')
  // Drop this account's older tags (under the current or a previous key) before adding the new one.
  const staleTags = new Set([key, ...otherKeys].map((candidateKey) => deviceTag(candidateKey, userId, parsed.deviceId).toString('base64url')))
  const kept = parsed.tags.filter((existing) => !staleTags.has(existing))
  return [parsed.deviceId, tag, ...kept].slice(0, MAX_ACCOUNTS_PER_DEVICE + 1).join('.')
}

function deviceKeys(): { current: Uint8Array; previous: Uint8Array[] } {
  const ring = getSecretBoxKeyRing(KNOWN_DEVICE_KEY_PURPOSE)
  return { current: ring.current.key, previous: ring.previous.map((entry) => entry.key) }
}

/** This browser's device id when it completed a sign-in to `userId` before, else null. */
export function getKnownDeviceId(jar: CookieJar, appUrl: URL, userId: string): string | null {
  const keys = deviceKeys()
  return getKnownDeviceIdFromValue(jar.get(getKnownDeviceCookieName(appUrl)), userId, [keys.current, ...keys.previous])
}

/** Whether this browser completed a sign-in to `userId` before. */
export function isKnownDevice(jar: CookieJar, appUrl: URL, userId: string): boolean {
  return getKnownDeviceId(jar, appUrl, userId) !== null
}

/** Records a completed sign-in of `userId` in this browser's device cookie. */
export function rememberDevice(jar: CookieJar, appUrl: URL, userId: string): void {
  const keys = deviceKeys()
  const name = getKnownDeviceCookieName(appUrl)
  jar.set(name, rememberDeviceValue(jar.get(name), userId, keys.current, keys.previous), {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: appUrl.protocol === 'https:',
    maxAge: KNOWN_DEVICE_COOKIE_MAX_AGE_SECONDS,
  })
}
