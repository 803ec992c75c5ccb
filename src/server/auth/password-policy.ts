/**
 * Server-only: password rules after NIST SP 800-63B §3.1.1.2 — length only, no composition rules,
 * a blocklist of common passwords, a strength estimate that knows patterns (keyboard walks,
 * repeats, dates; `password-strength.ts`), and an upper bound enforced before any hashing happens.
 */
import appConfig from '../../../app.config'
import { isCommonPassword } from './common-passwords'
import { estimatePasswordStrength } from './password-strength'

/**
 * The word under the usual decorations: `Password1234567!` → `password`. Attackers' rule sets
 * append and prepend digits and symbols to list entries first, so a listed word plus padding
 * is as weak as the word.
 */
function stripAffixes(password: string): string {
  return password.replace(/^[\d\W_]+|[\d\W_]+$/g, '')
}

/** True when most neighbouring characters step by -1, 0 or +1 (`1234567890123456`, `abcdefghijklmnop`, `zyxw…`). */
function isMostlySequential(password: string): boolean {
  const codes = [...password.toLowerCase()].map((char) => char.codePointAt(0)!)
  let steps = 0
  for (let index = 1; index < codes.length; index++) {
    const delta = codes[index]! - codes[index - 1]!
    // 9 → 0 (and 0 → 9) continue a digit run on a keyboard row.
    if (Math.abs(delta) <= 1 || Math.abs(delta) === 9) steps++
  }
  return codes.length > 1 && steps / (codes.length - 1) >= 0.8
}

export type PasswordPolicyResult = { isAcceptable: true } | { isAcceptable: false; reason: string }

/** Checks a candidate password; `hasMfa` lowers the minimum length (NIST allows 8 with a second factor). */
export function checkPasswordPolicy(password: string, options: { hasMfa: boolean; email?: string }): PasswordPolicyResult {
  const { minLengthWithMfa, minLengthWithoutMfa, maxLength } = appConfig.password
  const minLength = options.hasMfa ? minLengthWithMfa : minLengthWithoutMfa
  // NIST counts characters, not bytes or UTF-16 units: an emoji is one character.
  const length = [...password].length
  if (length > maxLength) return { isAcceptable: false, reason: `Use at most ${maxLength} characters.` }
  if (length < minLength) return { isAcceptable: false, reason: `Use at least ${minLength} characters.` }
  if (isCommonPassword(password) || isCommonPassword(stripAffixes(password))) {
    return { isAcceptable: false, reason: 'This password is too common; choose another.' }
  }
  // NIST 800-63B also names repetitive strings ('aaaaaaaaaaaaaaa', 'abababab…') and context-specific
  // words: the service's own name is the first thing an attacker tries.
  if (isMostlySequential(password)) return { isAcceptable: false, reason: 'Avoid sequences like 12345 or abcde.' }
  if (new Set(password.toLowerCase()).size <= 3) return { isAcceptable: false, reason: 'Avoid repeating the same few characters.' }
  if (password.toLowerCase().includes(appConfig.appName.toLowerCase())) {
    return { isAcceptable: false, reason: `Do not include "${appConfig.appName}" in the password.` }
  }
  if (options.email) {
    const localPart = options.email.split('@')[0]!.toLowerCase()
    if (localPart.length >= 4 && password.toLowerCase().includes(localPart)) {
      return { isAcceptable: false, reason: 'Do not include your email address in the password.' }
    }
  }
  // Last, because it is the only costly rule (~1 ms typical, bounded; see password-strength.ts):
  // the cheap rules above refuse most bad input before it runs.
  const minScore = options.hasMfa ? appConfig.password.minStrengthScoreWithMfa : appConfig.password.minStrengthScoreWithoutMfa
  const strength = estimatePasswordStrength(password, [appConfig.appName, ...(options.email ? [options.email, options.email.split('@')[0]!] : [])])
  if (strength.score < minScore) {
    return { isAcceptable: false, reason: strength.weakness ?? 'This password is too easy to guess; add a few unrelated words.' }
  }
  return { isAcceptable: true }
}

/**
 * True when `password` may protect an account on its own, with no second factor beside it: the
 * stricter of the two policies (NIST SP 800-63B-4 §3.1.1.2 — 15 characters for a single-factor
 * password, 8 when it is part of multi-factor authentication; ADR 018). Asked wherever the server
 * holds the plaintext and the second factor is absent or about to go: password sign-in and
 * turning MFA off.
 */
export function isAcceptableWithoutSecondFactor(password: string, email: string): boolean {
  return checkPasswordPolicy(password, { hasMfa: false, email }).isAcceptable
}
