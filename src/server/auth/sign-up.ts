/**
 * Server-only: self-service sign-up (when `app.config.ts` allows it). A new account has no second
 * factor and no organization; it is signed in through the same completion as every other path.
 */
import appConfig from '../../../app.config'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { getDomainSsoRule } from '../sso/sso-policy'
import { createUser, getUserByEmail, isDuplicateKeyError } from '../users/users'
import { sendEmailVerification } from './email-verification'
import { hashPassword } from './password'
import { checkPasswordPolicy } from './password-policy'
import { completeSignIn, type SignInResult } from './sign-in-completion'

/** Creates a password account, signs it in and mails the verification link. */
export async function signUpWithPassword(ctx: RequestContext, input: { email: string; password: string; name: string }): Promise<SignInResult> {
  if (!appConfig.signUp.isEnabled) throw appError('SIGN_UP_DISABLED')
  await ctx.enforcePerIpRateLimit('signUpPerIp')
  // New accounts have no second factor yet, so the password-only minimum applies.
  const policy = checkPasswordPolicy(input.password, { hasMfa: false, email: input.email })
  if (!policy.isAcceptable) throw appError('PASSWORD_POLICY', policy.reason)
  // A domain whose organization signs in through SSO gets no password accounts (no shadow accounts
  // next to SSO). Domain-level, so it reveals no more about accounts than EMAIL_TAKEN does.
  if ((await getDomainSsoRule(ctx.db, input.email)).kind !== 'none') throw appError('SSO_REQUIRED')
  // Sign-up necessarily tells whether an email is taken; the per-IP limit above bounds that
  // enumeration (ADR 004). Sign-in and password reset never tell.
  if (await getUserByEmail(ctx.db, input.email)) throw appError('EMAIL_TAKEN')
  const passwordHash = await hashPassword(input.password)
  let user
  try {
    user = await createUser(ctx.db, { email: input.email, name: input.name, passwordHash, role: appConfig.defaultRole, organizationId: null })
  } catch (error) {
    // Two sign-ups raced for one email: the unique index decided.
    if (isDuplicateKeyError(error)) throw appError('EMAIL_TAKEN')
    throw error
  }
  const result = await completeSignIn(ctx, user, { authMethod: 'password', provenWith: 'password', isNewAccount: true, auditType: 'auth.sign_up', auditDetails: {} })
  await sendEmailVerification(ctx, user)
  return result
}
