/**
 * Client-safe: email addresses as people read them. Internationalized domains are stored in their
 * ASCII (punycode, `xn--…`) form, the one DNS and SMTP use and the one that compares reliably
 * (src/server/users/email.ts); people should see `anna@bücher.example`, not
 * `anna@xn--bcher-kva.example`. `node:url`'s `domainToUnicode` is server-only, so this module carries
 * the small RFC 3492 decoder itself. Display only: never feed the result back into a comparison.
 */

const BASE = 36
const T_MIN = 1
const T_MAX = 26
const SKEW = 38
const DAMP = 700
const INITIAL_BIAS = 72
const INITIAL_N = 128
const DELIMITER = '-'
const ACE_PREFIX = 'xn--'
/** A decoded label never needs more code points than this (DNS labels are at most 63 octets). */
const MAX_LABEL_CODE_POINTS = 63

/** RFC 3492 §3.4 bias adaptation. */
function adapt(delta: number, numPoints: number, isFirstTime: boolean): number {
  let scaled = isFirstTime ? Math.floor(delta / DAMP) : delta >> 1
  scaled += Math.floor(scaled / numPoints)
  let k = 0
  while (scaled > ((BASE - T_MIN) * T_MAX) >> 1) {
    scaled = Math.floor(scaled / (BASE - T_MIN))
    k += BASE
  }
  return k + Math.floor(((BASE - T_MIN + 1) * scaled) / (scaled + SKEW))
}

/** a–z → 0–25, 0–9 → 26–35 (case-insensitive); -1 for anything else. */
function basicToDigit(char: string): number {
  const code = char.charCodeAt(0)
  if (code >= 0x30 && code <= 0x39) return code - 22
  if (code >= 0x41 && code <= 0x5a) return code - 0x41
  if (code >= 0x61 && code <= 0x7a) return code - 0x61
  return -1
}

/**
 * Decodes a punycode string (the part after `xn--`) per RFC 3492 §6.2; null when it is not valid
 * punycode, so the caller shows the ASCII form instead of something wrong.
 */
export function decodePunycode(input: string): string | null {
  const output: number[] = []
  const lastDelimiter = input.lastIndexOf(DELIMITER)
  const basicEnd = Math.max(lastDelimiter, 0)
  for (let j = 0; j < basicEnd; j++) {
    if (input.charCodeAt(j) >= 0x80) return null
    output.push(input.charCodeAt(j))
  }
  let n = INITIAL_N
  let i = 0
  let bias = INITIAL_BIAS
  for (let index = lastDelimiter >= 0 ? lastDelimiter + 1 : 0; index < input.length; ) {
    const oldI = i
    for (let w = 1, k = BASE; ; k += BASE) {
      if (index >= input.length) return null
      const digit = basicToDigit(input[index++]!)
      if (digit < 0) return null
      i += digit * w
      if (i > 0x7fffffff) return null
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias
      if (digit < t) break
      w *= BASE - t
    }
    bias = adapt(i - oldI, output.length + 1, oldI === 0)
    n += Math.floor(i / (output.length + 1))
    i %= output.length + 1
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null
    output.splice(i, 0, n)
    if (output.length > MAX_LABEL_CODE_POINTS) return null
    i++
  }
  return String.fromCodePoint(...output)
}

/** `xn--bcher-kva.example` → `bücher.example`; labels that are not valid punycode stay as they are. */
export function domainToUnicode(domain: string): string {
  return domain
    .split('.')
    .map((label) => {
      if (!label.toLowerCase().startsWith(ACE_PREFIX)) return label
      return decodePunycode(label.slice(ACE_PREFIX.length)) ?? label
    })
    .join('.')
}

/** An address with its domain in Unicode, for display: `anna@xn--bcher-kva.example` → `anna@bücher.example`. */
export function formatEmailForDisplay(email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 0) return email
  return `${email.slice(0, at)}@${domainToUnicode(email.slice(at + 1))}`
}
