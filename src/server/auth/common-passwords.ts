/**
 * Server-only: the blocklist of NIST SP 800-63B §3.1.1.2 ("passwords obtained from previous breach
 * corpuses"). It ships with the app as a dependency — the ~49k most common passwords collected by
 * zxcvbn-ts (MIT) — and is loaded once into a Set; no network look-up at sign-up.
 */
import { dictionary } from '@zxcvbn-ts/language-common'

let blocklist: Set<string> | undefined

/** True when the password (case-insensitively) is on the common-passwords list. */
export function isCommonPassword(password: string): boolean {
  blocklist ??= new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()))
  return blocklist.has(password.toLowerCase())
}
