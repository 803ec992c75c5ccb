/**
 * Server-only: password rules after NIST SP 800-63B §3.1.1.2 — length only, no composition rules,
 * a blocklist of common passwords, and an upper bound enforced before any hashing happens.
 */
import appConfig from '../../../app.config'
import { isCommonPassword } from './common-passwords'

export type PasswordPolicyResult = { isAcceptable: true } | { isAcceptable: false; reason: string }

/** Checks a candidate password; `hasMfa` lowers the minimum length (NIST allows 8 with a second factor). */
export function checkPasswordPolicy(password: string, options: { hasMfa: boolean; email?: string }): PasswordPolicyResult {
  const { minLengthWithMfa, minLengthWithoutMfa, maxLength } = appConfig.password
  const minLength = options.hasMfa ? minLengthWithMfa : minLengthWithoutMfa
  // NIST counts characters, not bytes or UTF-16 units: an emoji is one character.
  const length = [...password].length
  if (length > maxLength) return { isAcceptable: false, reason: `Use at most ${maxLength} characters.` }
  if (length < minLength) return { isAcceptable: false, reason: `Use at least ${minLength} characters.` }
  if (isCommonPassword(password)) return { isAcceptable: false, reason: 'This password is too common; choose another.' }
  if (options.email) {
    const localPart = options.email.split('@')[0]!.toLowerCase()
    if (localPart.length >= 4 && password.toLowerCase().includes(localPart)) {
      return { isAcceptable: false, reason: 'Do not include your email address in the password.' }
    }
  }
  return { isAcceptable: true }
}
