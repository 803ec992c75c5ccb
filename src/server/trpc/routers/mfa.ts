/**
 * Server-only: TOTP multi-factor authentication (SPEC §5): enrollment, the sign-in challenge,
 * recovery codes and the step-up-protected management of the factor. The flows live in
 * `auth/mfa-challenge.ts` and `auth/mfa-management.ts`; this router is their guarded surface.
 */
import { z } from 'zod'
import { getMfaStatus } from '../../auth/mfa'
import { completeMfaChallengeWithRecoveryCode, completeMfaChallengeWithTotp } from '../../auth/mfa-challenge'
import { finishTotpEnrollment, replaceRecoveryCodes, startTotpEnrollment, turnOffTotp } from '../../auth/mfa-management'
import { createTRPCRouter, mfaEnrollmentProcedure, mfaPendingProcedure, sensitiveProcedure } from '../init'
import { passwordInputSchema, recoveryCodeInputSchema, totpCodeInputSchema } from '../inputs'

export const mfaRouter = createTRPCRouter({
  /** Whether the caller has MFA, since when, and how many recovery codes are left. */
  status: mfaEnrollmentProcedure.query(async ({ ctx }) => {
    const status = await getMfaStatus(ctx.db, ctx.user.id)
    return { isEnabled: status.isEnabled, enabledAt: status.enabledAt?.toISOString() ?? null, recoveryCodesRemaining: status.recoveryCodesRemaining }
  }),

  /** Starts enrollment (recent re-authentication, unless policy forces enrollment): secret, URI and QR code, shown once. */
  beginEnrollment: mfaEnrollmentProcedure.mutation(async ({ ctx }) => {
    const enrollment = await startTotpEnrollment(ctx, ctx.auth)
    return { secret: enrollment.secret, otpauthUri: enrollment.otpauthUri, qrCode: enrollment.qrCodeSvg }
  }),

  /** Activates the pending factor with one of its codes; returns the recovery codes once. */
  confirmEnrollment: mfaEnrollmentProcedure
    .input(z.strictObject({ code: totpCodeInputSchema }))
    .mutation(({ ctx, input }) => finishTotpEnrollment(ctx, ctx.auth, input.code)),

  /** The sign-in challenge: a TOTP code from the enrolled factor (each time step accepted once). */
  verify: mfaPendingProcedure.input(z.strictObject({ code: totpCodeInputSchema })).mutation(({ ctx, input }) => completeMfaChallengeWithTotp(ctx, ctx.auth, input.code)),

  /** The sign-in challenge with a single-use recovery code; says how many remain. */
  useRecoveryCode: mfaPendingProcedure
    .input(z.strictObject({ code: recoveryCodeInputSchema }))
    .mutation(({ ctx, input }) => completeMfaChallengeWithRecoveryCode(ctx, ctx.auth, input.code)),

  /** Replaces the whole set of recovery codes (the old ones stop working); shown once. */
  regenerateRecoveryCodes: sensitiveProcedure.mutation(({ ctx }) => replaceRecoveryCodes(ctx, ctx.auth)),

  /**
   * Turns MFA off unless the organization requires it; other sessions end, this one gets a new
   * token. Accounts with a password send it (`currentPassword`): it must be fit to stand alone.
   */
  disable: sensitiveProcedure
    .input(z.strictObject({ currentPassword: passwordInputSchema.optional() }))
    .mutation(({ ctx, input }) => turnOffTotp(ctx, ctx.auth, input)),
})
