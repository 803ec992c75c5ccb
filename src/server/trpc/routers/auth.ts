/** Server-only: sign-up, sign-in, sign-out, the viewer and step-up re-authentication. */
import appConfig from '../../../../app.config'
import { checkPasswordPolicy } from '../../auth/password-policy'
import { hashPassword, verifyPassword } from '../../auth/password'
import { enforceAccountNotLocked, enforceRateLimit, recordAccountFailure } from '../../auth/rate-limit'
import { invalidateSession, markSessionReauthenticated } from '../../auth/session'
import { deleteSessionCookie } from '../../auth/session-cookie'
import { endIncomingSession, signInWithPassword } from '../../auth/sign-in'
import { toViewer, type Viewer } from '../../auth/viewer'
import { appError } from '../../errors'
import { createUser, getUserByEmail, isDuplicateKeyError } from '../../users/users'
import { auditFromContext, auditOwnAction } from '../audit'
import { createSessionAndSetCookie } from '../session-actions'
import { createTRPCRouter, protectedProcedure, publicProcedure } from '../init'
import { reauthenticateInputSchema, signInInputSchema, signUpInputSchema } from '../inputs'
import { authRecoveryProcedures } from './auth-recovery'
import { verifyReauthenticationCode } from '../../auth/reauth-code'
import { sendEmailVerification } from '../../auth/email-verification'

export const authRouter = createTRPCRouter({
  /** The current viewer, or null; public so the client can ask "am I signed in?". */
  me: publicProcedure.query(async ({ ctx }): Promise<Viewer | null> => {
    const auth = await ctx.getAuth()
    if (auth) ctx.responseHeaders.set('cache-control', 'no-store')
    return auth ? toViewer(auth) : null
  }),

  signIn: publicProcedure.input(signInInputSchema).mutation(({ ctx, input }) => signInWithPassword(ctx, input)),

  signUp: publicProcedure.input(signUpInputSchema).mutation(async ({ ctx, input }) => {
    if (!appConfig.signUp.isEnabled) throw appError('SIGN_UP_DISABLED')
    await enforceRateLimit(ctx, 'signUpPerIp', ctx.clientIp)
    // New accounts have no second factor yet, so the password-only minimum applies.
    const policy = checkPasswordPolicy(input.password, { hasMfa: false, email: input.email })
    if (!policy.isAcceptable) throw appError('PASSWORD_POLICY', policy.reason)
    // Sign-up necessarily tells whether an email is taken; the per-IP limit above bounds that
    // enumeration (ADR 004). Sign-in and password reset never tell.
    if (await getUserByEmail(ctx.db, input.email)) throw appError('EMAIL_TAKEN')
    const passwordHash = await hashPassword(input.password)
    let user
    try {
      user = await createUser(ctx.db, { email: input.email, name: input.name, passwordHash, role: appConfig.defaultRole as 'member', organizationId: null })
    } catch (error) {
      if (isDuplicateKeyError(error)) throw appError('EMAIL_TAKEN')
      throw error
    }
    await endIncomingSession(ctx)
    await createSessionAndSetCookie(ctx, user.id, { authMethod: 'password' })
    await auditFromContext(ctx, 'auth.sign_up', { actorUserId: user.id, subjectUserId: user.id })
    await sendEmailVerification(ctx, user)
    return { status: 'signed-in' as const }
  }),

  /** Ends the current session (if any) and clears the cookie; safe to call when signed out. */
  signOut: publicProcedure.mutation(async ({ ctx }) => {
    const auth = await ctx.getAuth()
    if (auth) {
      await invalidateSession(ctx.db, auth.session.id)
      await auditFromContext(ctx, 'auth.sign_out', { actorUserId: auth.user.id, subjectUserId: auth.user.id, organizationId: auth.user.organizationId })
    }
    deleteSessionCookie(ctx.cookies, ctx.env.appUrl)
    ctx.resetAuth()
    return { status: 'signed-out' as const }
  }),

  /**
   * Step-up: proves presence again (password, or a TOTP code for MFA users) and stamps the
   * session, unlocking sensitive procedures for `reauthWindowSeconds`. Failures count toward the
   * account lockout like sign-in failures.
   */
  reauthenticate: protectedProcedure.input(reauthenticateInputSchema).mutation(async ({ ctx, input }) => {
    await enforceRateLimit(ctx, 'signInPerIp', ctx.clientIp)
    await enforceAccountNotLocked(ctx, ctx.user.id)
    const isValid =
      'password' in input
        ? ctx.user.passwordHash !== null && (await verifyPassword(ctx.user.passwordHash, input.password))
        : await verifyReauthenticationCode(ctx.db, ctx.user, input.code, ctx.now)
    if (!isValid) {
      await recordAccountFailure(ctx.db, ctx.user.id, ctx.now)
      throw appError('password' in input ? 'INVALID_CREDENTIALS' : 'INVALID_CODE')
    }
    await markSessionReauthenticated(ctx.db, ctx.session.id, ctx.now)
    await auditOwnAction(ctx, 'auth.reauthenticated', { factor: 'password' in input ? 'password' : 'totp' })
    return { reauthenticatedAt: ctx.now.toISOString() }
  }),

  ...authRecoveryProcedures,
})
