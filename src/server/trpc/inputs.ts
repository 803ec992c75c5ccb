/** Server-only: input schemas shared by routers. Strict objects, bounded sizes (SPEC §7). */
import { z } from 'zod'
import appConfig from '../../../app.config'
import { ID_PATTERN, normalizeTotpCode, TOTP_CODE_PATTERN } from '../../lib/input-formats'
import { emailSchema } from '../users/email'

const { maxLength: MAX_PASSWORD_CHARACTERS } = appConfig.password
const PASSWORD_TOO_LONG = `Use at most ${MAX_PASSWORD_CHARACTERS} characters.`

/**
 * A password as typed, on every form that takes one (sign-up, sign-in, change, reset, re-auth).
 * Over-long input is refused with a message, never cut (issue 11 item 7: a field that truncated
 * a pasted password made the account unreachable from a form that did not). Bounded before
 * hashing so a megabyte "password" costs nothing (NIST 800-63B §3.1.1.2). The cheap UTF-16 bound
 * runs first (a character is at most two units); then characters (code points) are counted as the
 * policy counts them, so sign-in refuses exactly what sign-up would have refused.
 */
export const passwordInputSchema = z
  .string()
  .min(1, 'Enter your password')
  .max(MAX_PASSWORD_CHARACTERS * 2, PASSWORD_TOO_LONG)
  .refine((value) => [...value].length <= MAX_PASSWORD_CHARACTERS, PASSWORD_TOO_LONG)

export const signInInputSchema = z.strictObject({ email: emailSchema, password: passwordInputSchema })

/** The first step of the login page; `redirect` is sanitised when the flow is created. */
export const beginSignInInputSchema = z.strictObject({ email: emailSchema, redirect: z.string().max(2048).optional() })

export const signUpInputSchema = z.strictObject({
  email: emailSchema,
  password: passwordInputSchema,
  name: z.string().trim().min(1, 'Enter your name').max(120),
})

export const idInputSchema = z.string().regex(ID_PATTERN, 'Invalid id')

/** Six ASCII digits; whitespace is dropped first because apps display codes as "123 456". */
export const totpCodeInputSchema = z.string().max(32).transform(normalizeTotpCode).pipe(z.string().regex(TOTP_CODE_PATTERN, 'Enter the 6-digit code'))

/** A recovery code as typed (normalised by `recovery-codes.ts`); bounded so nothing large is hashed. */
export const recoveryCodeInputSchema = z.string().trim().min(1, 'Enter a recovery code').max(64, 'That is not a recovery code')

/** Re-authentication proves presence with the password or (for MFA users) a TOTP code. */
export const reauthenticateInputSchema = z.union([z.strictObject({ password: passwordInputSchema }), z.strictObject({ code: totpCodeInputSchema })])
