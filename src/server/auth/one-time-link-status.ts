/**
 * Server-only: what an emailed link will do, told before the page asks for anything (issue 12:
 * a used reset link showed the form and failed only after a new password was typed; a reopened
 * verification link said "invalid or expired" for an address that is verified).
 *
 * Reads only, never consumes. It reveals nothing to someone without the link: the token is 256
 * random bits, and the answer is about that token alone. It is still rate-limited per IP, so it
 * cannot become a cheap oracle for guessing tokens in bulk.
 */
import type { RequestContext } from '../request-context'
import { inspectOneTimeToken, type OneTimeTokenPurpose } from './one-time-tokens'

/**
 * - `valid`: the page may ask for input (reset) or go ahead (verification);
 * - `used`, `expired`: say so, and offer a new link;
 * - `already_verified` (verification only): the address the link was sent to is the account's,
 *   and it is verified — whether by this link, a newer one, or a password reset;
 * - `invalid`: anything else (unknown, malformed, or no longer applicable: the account's email
 *   changed, the account is disabled or has no password to reset).
 */
export type OneTimeLinkStatus = 'valid' | 'used' | 'expired' | 'invalid' | 'already_verified'

/**
 * Tells what a link of this purpose is, without consuming it. Rate-limited per IP by its own policy
 * (`oneTimeLinkLookupPerIp`), not `passwordResetPerIp`: opening the mails one asked for must not
 * spend the budget for asking, and a page load is one indexed read, so the bound is looser.
 */
export async function describeOneTimeLink(ctx: RequestContext, input: { token: string; purpose: OneTimeTokenPurpose }): Promise<{ status: OneTimeLinkStatus }> {
  await ctx.enforcePerIpRateLimit('oneTimeLinkLookupPerIp')
  const inspection = await inspectOneTimeToken(ctx.db, input.token, input.purpose, ctx.now)
  if (inspection.state === 'unknown') return { status: 'invalid' }
  const { user, email } = inspection
  // A link proves control of the mailbox it was sent to; once the account's email is another, it proves nothing.
  if (user.email !== email) return { status: 'invalid' }
  if (input.purpose === 'email_verification') {
    if (user.emailVerifiedAt !== null) return { status: 'already_verified' }
  } else if (!user.passwordHash || user.disabledAt !== null) {
    // The same refusals as the reset itself (password-reset.ts): say "invalid", never why.
    return { status: 'invalid' }
  }
  return { status: inspection.state === 'usable' ? 'valid' : inspection.state }
}
