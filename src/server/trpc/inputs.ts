/** Server-only: input schemas shared by routers. Strict objects, bounded sizes (SPEC §7). */
import { z } from 'zod'
import appConfig from '../../../app.config'
import { ID_PATTERN, normalizeTotpCode, TOTP_CODE_PATTERN } from '../../lib/input-formats'
import { emailSchema } from '../users/email'

/** A password as typed; bounded before hashing so a megabyte "password" costs nothing (NIST 800-63B). */
// The policy counts characters (code points); a character is at most two UTF-16 units, so this
// bound never refuses a password the policy accepts.
export const passwordInputSchema = z.string().min(1, 'Enter your password').max(appConfig.password.maxLength * 2, `Use at most ${appConfig.password.maxLength} characters`)

export const signInInputSchema = z.strictObject({ email: emailSchema, password: passwordInputSchema })

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
