/**
 * Server-only: password reset and email verification procedures, merged into `auth.*` (so the
 * client calls `auth.requestPasswordReset` etc.). The logic lives in `auth/password-reset.ts` and
 * `auth/email-verification.ts`; this file is only the tRPC surface and its inputs.
 */
import { z } from 'zod'
import { resendEmailVerification, verifyEmailWithToken } from '../../auth/email-verification'
import { describeOneTimeLink } from '../../auth/one-time-link-status'
import { requestPasswordReset, resetPasswordWithToken } from '../../auth/password-reset'
import { emailSchema } from '../../users/email'
import { protectedProcedure, publicProcedure } from '../init'
import { passwordInputSchema } from '../inputs'

/**
 * A token as pasted from a mail link. Only bounded here: a malformed token gets the same
 * INVALID_TOKEN as an expired one (the user needs a new link either way), without a query.
 */
const oneTimeTokenInputSchema = z.string().trim().max(128, 'Invalid link')

export const authRecoveryProcedures = {
  /** Mails a reset link when the email has a password account; the answer never says whether it does. */
  requestPasswordReset: publicProcedure
    .input(z.strictObject({ email: emailSchema }))
    .mutation(({ ctx, input }) => requestPasswordReset(ctx, input.email)),

  /** Sets a new password from a reset link, revokes every session, and does not sign in. */
  resetPassword: publicProcedure
    .input(z.strictObject({ token: oneTimeTokenInputSchema, password: passwordInputSchema }))
    .mutation(({ ctx, input }) => resetPasswordWithToken(ctx, input)),

  /** Marks the email verified from a verification link (no session needed: the link may open in another browser). */
  verifyEmail: publicProcedure
    .input(z.strictObject({ token: oneTimeTokenInputSchema }))
    .mutation(({ ctx, input }) => verifyEmailWithToken(ctx, input.token)),

  /**
   * What an emailed link is — valid, used, expired, invalid, or (verification) already verified —
   * so the page tells the truth before asking for input. Reads only; rate-limited per IP.
   * A mutation although it changes nothing: the token then travels in a POST body, never in a
   * query string that access logs, proxies and browser history keep (`?input={"token":…}`).
   */
  describeOneTimeLink: publicProcedure
    .input(z.strictObject({ token: oneTimeTokenInputSchema, purpose: z.enum(['password_reset', 'email_verification']) }))
    .mutation(({ ctx, input }) => describeOneTimeLink(ctx, input)),

  /** Sends a new verification link to the signed-in user, if their email is not verified yet. */
  resendVerificationEmail: protectedProcedure.mutation(({ ctx }) => resendEmailVerification(ctx, ctx.user)),
}
