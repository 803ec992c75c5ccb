/**
 * Server-only: password reset and email verification procedures, merged into `auth.*`.
 * (Being built: requestPasswordReset, resetPassword, verifyEmail, resendVerificationEmail.)
 */
export const authRecoveryProcedures = {}
