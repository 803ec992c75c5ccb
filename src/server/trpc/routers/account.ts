/** Server-only: the signed-in user's own account. */
import { z } from 'zod'
import { changePassword } from '../../auth/change-password'
import { createTRPCRouter, sensitiveProcedure } from '../init'
import { passwordInputSchema } from '../inputs'

export const accountRouter = createTRPCRouter({
  /** Changes the password: needs the current one and a recent re-authentication; other sessions end. */
  changePassword: sensitiveProcedure
    .input(z.strictObject({ currentPassword: passwordInputSchema, newPassword: passwordInputSchema }))
    .mutation(({ ctx, input }) => changePassword(ctx, ctx.auth, input)),
})
