/** Server-only: the single place emails are normalised (trim + lower-case) before storage or look-up. */
import { z } from 'zod'

/** RFC 5321 caps a path at 256 octets including brackets, so an address is at most 254. */
export const MAX_EMAIL_LENGTH = 254

/** Trims and lower-cases; called once at every boundary where an email enters the system. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

/** zod schema for an email input: bounded, normalised, syntactically valid. */
export const emailSchema = z
  .string()
  .max(MAX_EMAIL_LENGTH + 64, 'Email is too long')
  .transform(normalizeEmail)
  .pipe(z.email('Enter a valid email address').max(MAX_EMAIL_LENGTH, 'Email is too long'))
