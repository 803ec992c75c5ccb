/**
 * Server-only: the one place application errors become tRPC errors (and so HTTP statuses).
 * Messages here are what users see: generic, never a hint about other accounts or internals.
 */
import { TRPCError } from '@trpc/server'
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc'
import type { AppErrorCode } from '../lib/app-errors'

const TRPC_CODE_BY_APP_CODE: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  UNAUTHENTICATED: 'UNAUTHORIZED',
  MFA_REQUIRED: 'UNAUTHORIZED',
  MFA_ENROLLMENT_REQUIRED: 'FORBIDDEN',
  FORBIDDEN: 'FORBIDDEN',
  REAUTH_REQUIRED: 'FORBIDDEN',
  REAUTH_SECOND_FACTOR_REQUIRED: 'FORBIDDEN',
  INVALID_CREDENTIALS: 'UNAUTHORIZED',
  ACCOUNT_DISABLED: 'FORBIDDEN',
  INVALID_CODE: 'BAD_REQUEST',
  PASSWORD_POLICY: 'BAD_REQUEST',
  EMAIL_TAKEN: 'CONFLICT',
  SSO_REQUIRED: 'FORBIDDEN',
  SIGN_UP_DISABLED: 'FORBIDDEN',
  INVALID_TOKEN: 'BAD_REQUEST',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  ACCOUNT_LOCKED: 'TOO_MANY_REQUESTS',
  MFA_LOCKED: 'FORBIDDEN',
  CSRF_REJECTED: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_INPUT: 'BAD_REQUEST',
  ALREADY_EXISTS: 'CONFLICT',
  LAST_OWNER: 'CONFLICT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
}

const DEFAULT_MESSAGES: Record<AppErrorCode, string> = {
  UNAUTHENTICATED: 'Please sign in.',
  MFA_REQUIRED: 'Enter the code from your authenticator app to finish signing in.',
  MFA_ENROLLMENT_REQUIRED: 'Your organization requires two-factor authentication. Set it up to continue.',
  FORBIDDEN: 'You do not have access to this.',
  REAUTH_REQUIRED: 'Confirm it is you to continue.',
  REAUTH_SECOND_FACTOR_REQUIRED: 'Removing or replacing your second factor needs a code from your authenticator app.',
  INVALID_CREDENTIALS: 'Email or password is incorrect.',
  ACCOUNT_DISABLED: 'This account has been disabled. Ask an administrator of your organization to enable it again.',
  INVALID_CODE: 'That code is not valid.',
  PASSWORD_POLICY: 'Choose a different password.',
  EMAIL_TAKEN: 'An account with this email already exists.',
  SSO_REQUIRED: 'Your organization signs you in through its own sign-in service. Use “Sign in” with your work email instead of creating an account.',
  SIGN_UP_DISABLED: 'Sign-up is disabled.',
  INVALID_TOKEN: 'This link is invalid or has expired.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  ACCOUNT_LOCKED: 'Too many attempts. Try again later.',
  MFA_LOCKED:
    'Too many wrong codes in a row: codes from your authenticator app are blocked for this account. Use a recovery code (or, to confirm it is you, your password), or ask an administrator to reset your two-factor authentication.',
  CSRF_REJECTED: 'Request refused.',
  NOT_FOUND: 'Not found.',
  INVALID_INPUT: 'Check the values and try again.',
  ALREADY_EXISTS: 'That already exists.',
  LAST_OWNER: 'This would leave the organization without an owner who can sign in. Make another member an owner first.',
  SERVICE_UNAVAILABLE: 'The service is briefly unavailable. Try again in a few seconds.',
}

/** The cause attached to every application TRPCError; the error formatter exposes `appCode`. */
export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly appCode: AppErrorCode,
    message?: string,
  ) {
    super(message ?? DEFAULT_MESSAGES[appCode])
  }
}

/** A TRPCError for an application error code, with the user-facing message. */
export function appError(appCode: AppErrorCode, message?: string): TRPCError {
  const cause = new AppError(appCode, message)
  return new TRPCError({ code: TRPC_CODE_BY_APP_CODE[appCode], message: cause.message, cause })
}

/** The tRPC error code an application code maps to (its HTTP status follows from it), for routes that speak the same catalog. */
export function trpcCodeFor(appCode: AppErrorCode): TRPC_ERROR_CODE_KEY {
  return TRPC_CODE_BY_APP_CODE[appCode]
}
