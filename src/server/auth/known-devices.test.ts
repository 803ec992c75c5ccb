import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getKnownDeviceIdFromValue, isKnownDeviceValue, MAX_ACCOUNTS_PER_DEVICE, rememberDeviceValue } from './known-devices'

const key = new Uint8Array(randomBytes(32))
const otherKey = new Uint8Array(randomBytes(32))

describe('known devices (new-device sign-in notification)', () => {
  it('a browser without the cookie is new; after a sign-in it is known for that account only', () => {
    expect(isKnownDeviceValue(null, 'usr_a', [key])).toBe(false)
    const cookie = rememberDeviceValue(null, 'usr_a', key)
    expect(isKnownDeviceValue(cookie, 'usr_a', [key])).toBe(true)
    expect(isKnownDeviceValue(cookie, 'usr_b', [key])).toBe(false)
  })

  it('several accounts on one browser keep one device id, newest first, at most 8', () => {
    let cookie = rememberDeviceValue(null, 'usr_0', key)
    const deviceId = cookie.split('.')[0]
    for (let i = 1; i <= MAX_ACCOUNTS_PER_DEVICE; i++) cookie = rememberDeviceValue(cookie, `usr_${i}`, key)
    expect(cookie.split('.')[0]).toBe(deviceId)
    expect(cookie.split('.')).toHaveLength(MAX_ACCOUNTS_PER_DEVICE + 1)
    expect(isKnownDeviceValue(cookie, `usr_${MAX_ACCOUNTS_PER_DEVICE}`, [key])).toBe(true)
    expect(isKnownDeviceValue(cookie, 'usr_0', [key])).toBe(false) // the oldest dropped out
    // Signing in again does not duplicate the tag.
    expect(rememberDeviceValue(cookie, `usr_${MAX_ACCOUNTS_PER_DEVICE}`, key).split('.')).toHaveLength(MAX_ACCOUNTS_PER_DEVICE + 1)
  })

  it('forged or moved tags are refused: another key, another device id, another account, garbage', () => {
    const cookie = rememberDeviceValue(null, 'usr_a', key)
    expect(isKnownDeviceValue(cookie, 'usr_a', [otherKey])).toBe(false)
    const [, tag] = cookie.split('.')
    const otherDevice = rememberDeviceValue(null, 'usr_b', key).split('.')[0]
    expect(isKnownDeviceValue(`${otherDevice}.${tag}`, 'usr_a', [key])).toBe(false)
    for (const garbage of ['', '.', 'x'.repeat(600), 'not a cookie', `${cookie}.!!`]) expect(isKnownDeviceValue(garbage, 'usr_a', [key])).toBe(false)
  })

  it('names the device only for an account it holds a valid tag for (the lockout budget key, ADR 016)', () => {
    const cookie = rememberDeviceValue(rememberDeviceValue(null, 'usr_a', key), 'usr_b', key)
    expect(getKnownDeviceIdFromValue(cookie, 'usr_a', [key])).toBe(cookie.split('.')[0])
    expect(getKnownDeviceIdFromValue(cookie, 'usr_b', [key])).toBe(cookie.split('.')[0])
    // An unknown email's subject was never tagged by any sign-in.
    expect(getKnownDeviceIdFromValue(cookie, 'email:0123456789abcdef0123456789abcdef', [key])).toBeNull()
    expect(getKnownDeviceIdFromValue(cookie, 'usr_a', [otherKey])).toBeNull()
  })

  it('after an APP_SECRET rotation the old tag still counts, and the next sign-in re-tags under the new key', () => {
    const cookie = rememberDeviceValue(null, 'usr_a', otherKey)
    expect(isKnownDeviceValue(cookie, 'usr_a', [key, otherKey])).toBe(true)
    const retagged = rememberDeviceValue(cookie, 'usr_a', key, [otherKey])
    expect(retagged.split('.')).toHaveLength(2)
    expect(isKnownDeviceValue(retagged, 'usr_a', [key])).toBe(true)
  })
})
