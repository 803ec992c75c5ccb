/** Server-only: sign-up, sign-in, sign-out, the viewer and step-up re-authentication. */
import { z } from 'zod'
import { reauthenticate } from '../../auth/reauthentication'
import { invalidateSession } from '../../auth/session'
import { deleteSessionCookie } from '../../auth/session-cookie'
import { signInWithPassword } from '../../auth/sign-in'
import { signUpWithPassword } from '../../auth/sign-up'
import { toViewer, type Viewer } from '../../auth/viewer'
import { getConnectionDisplayName } from '../../sso/connection-names'
import { beginSignIn, startSsoReauthentication } from '../../sso/sso-login'
import { createTRPCRouter, protectedProcedure, publicProcedure } from '../init'
import { beginSignInInputSchema, reauthenticateInputSchema, signInInputSchema, signUpInputSchema } from '../inputs'
import { authRecoveryProcedures } from './auth-recovery'

export const authRouter = createTRPCRouter({
  /** The current viewer, or null; public so the client can ask "am I signed in?". */
  me: publicProcedure.query(async ({ ctx }): Promise<Viewer | null> => {
    const auth = await ctx.getAuth()
    if (!auth) return null
    ctx.responseHeaders.set('cache-control', 'no-store')
    const connectionName = auth.session.ssoConnectionId ? await getConnectionDisplayName(ctx.db, auth.session.ssoConnectionId) : null
    return toViewer(auth, connectionName)
  }),

  /**
   * Email-first sign-in: `{ next: 'sso', url }` for a domain routed to an enabled SSO connection
   * (the page navigates there), `{ next: 'password' }` otherwise. A mutation, so the email stays out
   * of URLs and logs; the answer depends on the domain only.
   */
  beginSignIn: publicProcedure.input(beginSignInInputSchema).mutation(({ ctx, input }) => beginSignIn(ctx, input)),

  signIn: publicProcedure.input(signInInputSchema).mutation(({ ctx, input }) => signInWithPassword(ctx, input)),

  signUp: publicProcedure.input(signUpInputSchema).mutation(({ ctx, input }) => signUpWithPassword(ctx, input)),

  /** Ends the current session (if any) and clears the cookie; safe to call when signed out. */
  signOut: publicProcedure.mutation(async ({ ctx }) => {
    const auth = await ctx.getAuth()
    if (auth) {
      await invalidateSession(ctx.db, auth.session.id)
      await ctx.audit('auth.sign_out', { actorUserId: auth.user.id, subjectUserId: auth.user.id, organizationId: auth.user.organizationId })
    }
    deleteSessionCookie(ctx.cookies, ctx.env.appUrl)
    ctx.resetAuth()
    return { status: 'signed-out' as const }
  }),

  /**
   * Step-up at the identity provider for SSO sessions: a flow with `prompt=login` / `max_age=0`
   * whose callback stamps this session (same user, same connection, a fresh login). Answers the
   * IdP URL for the dialog's popup.
   */
  beginSsoReauthentication: protectedProcedure
    .input(z.strictObject({ redirect: z.string().max(2048).optional() }))
    .mutation(({ ctx, input }) => startSsoReauthentication(ctx, ctx.auth, input.redirect)),

  /** Step-up: proves presence again (password, or a TOTP code for MFA users), unlocking sensitive procedures for a while. */
  reauthenticate: protectedProcedure.input(reauthenticateInputSchema).mutation(({ ctx, input }) => reauthenticate(ctx, ctx.auth, input)),

  ...authRecoveryProcedures,
})
