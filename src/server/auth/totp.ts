/**
 * Server-only: TOTP codes (RFC 6238 over RFC 4226 HOTP) with the parameters every authenticator
 * app understands: HMAC-SHA-1, 6 digits, 30-second steps. This module only computes and compares;
 * replay protection ("each step at most once per user") needs the database and lives in `mfa.ts`.
 */
import { timingSafeEqual } from 'node:crypto'
import { HOTP, Secret, TOTP } from 'otpauth'
import QRCode from 'qrcode'
import appConfig from '../../../app.config'

export const TOTP_ALGORITHM = 'SHA1'
export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
/** ±1 step absorbs clock drift and typing time (RFC 6238 §5.2 recommends at most one step back). */
export const TOTP_WINDOW_STEPS = 1
/** 160 bits: the HMAC-SHA-1 block-native length RFC 4226 §4 recommends (R6). */
export const TOTP_SECRET_BYTES = 20

/** A fresh TOTP secret from the CSPRNG. */
export function generateTotpSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES))
}

/** The secret as RFC 4648 base32 (no padding), the "manual key" authenticator apps accept. */
export function encodeTotpSecret(secret: Uint8Array): string {
  return new Secret({ buffer: copyToArrayBuffer(secret) }).base32
}

/** The `otpauth://totp/...` URI for QR codes: issuer from app.config, account label = email. */
export function createTotpUri(input: { secret: Uint8Array; accountName: string; issuer?: string }): string {
  return new TOTP({
    issuer: input.issuer ?? appConfig.appName,
    label: input.accountName,
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: new Secret({ buffer: copyToArrayBuffer(input.secret) }),
  }).toString()
}

/** The URI as an SVG QR code (rendered inline; no image request that could leak the secret). */
export function createTotpQrCodeSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
}

/** The RFC 6238 time step (counter) of an instant: floor(unix seconds / 30). */
export function getTotpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS)
}

/** The 6-digit code of `secret` at an absolute time step. */
export function generateTotpCode(secret: Uint8Array, step: number): string {
  return HOTP.generate({
    secret: new Secret({ buffer: copyToArrayBuffer(secret) }),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    counter: step,
  })
}

/**
 * User input to a code, or null. Spaces are dropped ("123 456" is how apps display it); anything
 * but exactly six ASCII digits is refused, including look-alike Unicode digits ("１２３４５６"),
 * which a lenient `\d` or `Number()` would let through.
 */
export function normalizeTotpCode(input: string): string | null {
  if (input.length > 32) return null
  const code = input.replace(/ /g, '')
  return /^[0-9]{6}$/.test(code) ? code : null
}

/**
 * The absolute time step whose code equals `code` within ±1 step of `now`, or null.
 * With `afterStep`, only steps strictly greater count (steps already used are spent), and of the
 * matching ones the earliest is returned so a later step stays available. All candidate steps are
 * always computed and compared in constant time, so timing reveals neither which step matched nor
 * how many digits were right.
 */
export function getMatchingTotpStep(
  secret: Uint8Array,
  code: string,
  options: { now: Date; afterStep?: number | null },
): number | null {
  const normalized = normalizeTotpCode(code)
  if (normalized === null) return null
  const center = getTotpStep(options.now)
  const given = Buffer.from(normalized, 'ascii')
  let matched: number | null = null
  for (let step = center - TOTP_WINDOW_STEPS; step <= center + TOTP_WINDOW_STEPS; step++) {
    const isEqual = timingSafeEqual(given, Buffer.from(generateTotpCode(secret, step), 'ascii'))
    const isUnspent = options.afterStep == null || step > options.afterStep
    if (isEqual && isUnspent && matched === null) matched = step
  }
  return matched
}

/** otpauth's typings want an ArrayBuffer; copy so a caller's view into a larger buffer is never read past its end. */
function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(copy).set(bytes)
  return copy
}
