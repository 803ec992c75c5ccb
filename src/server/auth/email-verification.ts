/**
 * Server-only: email verification (being built; see the password-reset / verification work).
 */
import type { User } from '../../../db/schema'
import type { TRPCContext } from '../trpc/context'

/** Issues a verification token for the user's current email and mails the link. */
export async function sendEmailVerification(_ctx: TRPCContext, _user: Pick<User, 'id' | 'email' | 'name'>): Promise<void> {
  // Implemented with the one-time token and mail modules.
}
