/**
 * Server-only: the single place emails are normalised (trim + lower-case, domain to ASCII) before
 * storage or look-up, and the rule for what is accepted:
 *
 * - Internationalized domains are accepted and stored in their ASCII form (`bücher.example` →
 *   `xn--bcher-kva.example`, UTS #46 via `node:url`), the form DNS and SMTP use, so one mailbox has
 *   one stored spelling whichever way it was typed. The UI shows it in Unicode again
 *   (src/lib/email-display.ts).
 * - The part before the @ must be ASCII: a non-ASCII local part needs SMTPUTF8 (RFC 6531) from
 *   every relay on the way, which Gatehouse cannot promise, so it is refused with a message that
 *   says exactly that rather than "Enter a valid email address".
 */
import { domainToASCII } from 'node:url'
import { z } from 'zod'

/** RFC 5321 caps a path at 256 octets including brackets, so an address is at most 254. */
export const MAX_EMAIL_LENGTH = 254

/** What a person is told when the part before the @ is not ASCII (see the module comment). */
export const NON_ASCII_LOCAL_PART_MESSAGE = 'Use only unaccented letters (a–z), digits and . _ \' + - before the @.'

/**
 * zod's default email pattern with one change: the top-level domain may also be an ASCII-encoded
 * internationalized one (`xn--p1ai` for `рф`), which the default's letters-only TLD refuses.
 */
const EMAIL_PATTERN = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+(?:[A-Za-z]{2,}|xn--[A-Za-z0-9\-]+)$/

// eslint-disable-next-line no-control-regex -- the ASCII range is the point
const ASCII_ONLY = /^[\x00-\x7f]*$/

/** Trims and lower-cases, and writes an internationalized domain in ASCII; called once at every boundary where an email enters the system. */
export function normalizeEmail(email: string): string {
  const lowered = email.trim().toLowerCase()
  const at = lowered.lastIndexOf('@')
  if (at < 0) return lowered
  const domain = lowered.slice(at + 1)
  if (ASCII_ONLY.test(domain)) return lowered
  // An invalid internationalized domain converts to '': keep the input, which the pattern refuses.
  const asciiDomain = domainToASCII(domain)
  return asciiDomain ? `${lowered.slice(0, at)}@${asciiDomain}` : lowered
}

/** Whether the part before the last @ is ASCII (see the module comment). */
function hasAsciiLocalPart(email: string): boolean {
  const at = email.lastIndexOf('@')
  return ASCII_ONLY.test(at < 0 ? email : email.slice(0, at))
}

/** zod schema for an email input: bounded, normalised, syntactically valid. */
export const emailSchema = z
  .string()
  .max(MAX_EMAIL_LENGTH + 64, 'Email is too long')
  .transform(normalizeEmail)
  .pipe(
    z
      .string()
      .refine(hasAsciiLocalPart, { message: NON_ASCII_LOCAL_PART_MESSAGE, abort: true })
      .pipe(z.email({ pattern: EMAIL_PATTERN, error: 'Enter a valid email address' }).max(MAX_EMAIL_LENGTH, 'Email is too long')),
  )
