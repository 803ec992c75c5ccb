import { execFileSync, spawnSync } from 'node:child_process'
import { Secret, TOTP } from 'otpauth'
import { describe, expect, it } from 'vitest'
import {
  createTotpQrCodeSvg,
  createTotpUri,
  encodeTotpSecret,
  generateTotpCode,
  generateTotpSecret,
  getMatchingTotpStep,
  getTotpStep,
  normalizeTotpCode,
} from './totp'

/** RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII seed "12345678901234567890", 8 digits. */
const RFC_SEED = '12345678901234567890'
const RFC_SHA1_VECTORS: Array<{ unixSeconds: number; code: string }> = [
  { unixSeconds: 59, code: '94287082' },
  { unixSeconds: 1111111109, code: '07081804' },
  { unixSeconds: 1111111111, code: '14050471' },
  { unixSeconds: 1234567890, code: '89005924' },
  { unixSeconds: 2000000000, code: '69279037' },
  { unixSeconds: 20000000000, code: '65353130' },
]
const rfcSecret = new Uint8Array(Buffer.from(RFC_SEED, 'ascii'))
const at = (unixSeconds: number) => new Date(unixSeconds * 1000)

const hasOathtool = spawnSync('oathtool', ['--version']).status === 0
if (!hasOathtool) console.warn('NOTE: oathtool is not installed; the independent-implementation TOTP tests are skipped (RFC 6238 vectors still run)')

/** A code from OATH Toolkit, an implementation that shares no code with otpauth. */
function oathtoolCode(base32Secret: string, unixSeconds: number): string {
  return execFileSync('oathtool', ['--totp', '-b', base32Secret, '--now', `@${unixSeconds}`], { encoding: 'utf8' }).trim()
}

describe('TOTP against RFC 6238 Appendix B (SHA-1)', () => {
  it.each(RFC_SHA1_VECTORS)('otpauth with 8 digits reproduces the vector at T=$unixSeconds', ({ unixSeconds, code }) => {
    const generated = TOTP.generate({ secret: Secret.fromLatin1(RFC_SEED), algorithm: 'SHA1', digits: 8, period: 30, timestamp: unixSeconds * 1000 })
    expect(generated).toBe(code)
  })

  it.each(RFC_SHA1_VECTORS)('the 6-digit code at T=$unixSeconds is the vector truncated mod 10^6, and is accepted', ({ unixSeconds, code }) => {
    const step = Math.floor(unixSeconds / 30)
    expect(getTotpStep(at(unixSeconds))).toBe(step)
    expect(generateTotpCode(rfcSecret, step)).toBe(code.slice(-6))
    expect(getMatchingTotpStep(rfcSecret, code.slice(-6), { now: at(unixSeconds) })).toBe(step)
  })
})

/**
 * In CI the independent check must run: a machine without oathtool would otherwise pass it silently.
 * Locally a missing tool only skips it (with the note above).
 */
describe.runIf(process.env.CI && !hasOathtool)('TOTP against oathtool in CI', () => {
  it('needs the oathtool command (install it: apt-get install -y oathtool; .ci/run does)', () => {
    expect.fail('oathtool is not installed, so the independent TOTP check cannot run: apt-get install -y oathtool')
  })
})

describe.skipIf(!hasOathtool)(`TOTP against oathtool${hasOathtool ? '' : ' (SKIPPED: oathtool not installed)'}`, () => {
  it('accepts codes oathtool computes from the base32 key we show the user', () => {
    const secret = generateTotpSecret()
    const base32 = encodeTotpSecret(secret)
    for (const unixSeconds of [59, 1_700_000_000, 1_800_000_015, 2_000_000_029, 4_000_000_000]) {
      expect(getMatchingTotpStep(secret, oathtoolCode(base32, unixSeconds), { now: at(unixSeconds) })).toBe(Math.floor(unixSeconds / 30))
    }
  })

  it('agrees with oathtool on the RFC seed', () => {
    expect(oathtoolCode(encodeTotpSecret(rfcSecret), 1111111109)).toBe('081804')
  })

  it('window edges: T−1 and T+1 are accepted, T−2 and T+2 are refused', () => {
    const base32 = encodeTotpSecret(rfcSecret)
    const now = 1_750_000_015 // the middle of a step
    const step = Math.floor(now / 30)
    const codeAt = (delta: number) => oathtoolCode(base32, now + delta * 30)
    // Fixed seed and time: the five codes are distinct, so no accidental collision decides the test.
    expect(new Set([-2, -1, 0, 1, 2].map(codeAt)).size).toBe(5)

    expect(getMatchingTotpStep(rfcSecret, codeAt(-1), { now: at(now) })).toBe(step - 1)
    expect(getMatchingTotpStep(rfcSecret, codeAt(0), { now: at(now) })).toBe(step)
    expect(getMatchingTotpStep(rfcSecret, codeAt(1), { now: at(now) })).toBe(step + 1)
    expect(getMatchingTotpStep(rfcSecret, codeAt(-2), { now: at(now) })).toBeNull()
    expect(getMatchingTotpStep(rfcSecret, codeAt(2), { now: at(now) })).toBeNull()
  })

  it('the window moves exactly at the 30-second boundary', () => {
    const base32 = encodeTotpSecret(rfcSecret)
    const boundary = 1_750_000_020 // divisible by 30: the first second of a step
    const twoStepsBack = oathtoolCode(base32, boundary - 60)
    expect(getMatchingTotpStep(rfcSecret, twoStepsBack, { now: new Date(boundary * 1000 - 1) })).toBe(boundary / 30 - 2)
    expect(getMatchingTotpStep(rfcSecret, twoStepsBack, { now: new Date(boundary * 1000) })).toBeNull()
  })

  it('spent steps (afterStep) are refused; later steps in the window still count', () => {
    const base32 = encodeTotpSecret(rfcSecret)
    const now = 1_750_000_015
    const step = Math.floor(now / 30)
    expect(getMatchingTotpStep(rfcSecret, oathtoolCode(base32, now), { now: at(now), afterStep: step })).toBeNull()
    expect(getMatchingTotpStep(rfcSecret, oathtoolCode(base32, now - 30), { now: at(now), afterStep: step })).toBeNull()
    expect(getMatchingTotpStep(rfcSecret, oathtoolCode(base32, now + 30), { now: at(now), afterStep: step })).toBe(step + 1)
    expect(getMatchingTotpStep(rfcSecret, oathtoolCode(base32, now), { now: at(now), afterStep: step - 1 })).toBe(step)
  })
})

describe('TOTP input', () => {
  it('accepts exactly six ASCII digits, with spaces ignored', () => {
    expect(normalizeTotpCode('123456')).toBe('123456')
    expect(normalizeTotpCode('123 456')).toBe('123456')
    expect(normalizeTotpCode(' 12 34 56 ')).toBe('123456')
  })

  it.each([
    ['too short', '12345'],
    ['too long', '1234567'],
    ['letters', '12345a'],
    ['full-width digits', '１２３４５６'],
    ['Arabic-Indic digits', '١٢٣٤٥٦'],
    ['a sign', '+12345'],
    ['a decimal point', '1234.5'],
    ['a dash', '123-456'],
    ['a newline', '123456\n'],
    ['empty', ''],
    ['oversized', ' '.repeat(10_000) + '123456'],
  ])('refuses %s', (_label, input) => {
    expect(normalizeTotpCode(input)).toBeNull()
    expect(getMatchingTotpStep(rfcSecret, input, { now: at(59) })).toBeNull()
  })
})

describe('TOTP enrollment material', () => {
  it('generates 20-byte secrets from the CSPRNG, shown as 32 base32 characters', () => {
    const first = generateTotpSecret()
    expect(first).toHaveLength(20)
    expect(encodeTotpSecret(first)).toMatch(/^[A-Z2-7]{32}$/)
    expect(encodeTotpSecret(generateTotpSecret())).not.toBe(encodeTotpSecret(first))
  })

  it('builds an otpauth:// URI with issuer, email label and the standard parameters', () => {
    const uri = new URL(createTotpUri({ secret: rfcSecret, accountName: 'ada@example.com' }))
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.host).toBe('totp')
    expect(decodeURIComponent(uri.pathname)).toBe('/Gatehouse:ada@example.com')
    expect(uri.searchParams.get('issuer')).toBe('Gatehouse')
    expect(uri.searchParams.get('secret')).toBe(encodeTotpSecret(rfcSecret))
    expect(uri.searchParams.get('algorithm')).toBe('SHA1')
    expect(uri.searchParams.get('digits')).toBe('6')
    expect(uri.searchParams.get('period')).toBe('30')
  })

  it('renders the URI as an SVG QR code', async () => {
    const svg = await createTotpQrCodeSvg(createTotpUri({ secret: rfcSecret, accountName: 'ada@example.com' }))
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg).toContain('<path')
  })
})
