/**
 * Client-safe: the catalog of application error codes. The server maps each to one tRPC code
 * (and so one HTTP status) in `src/server/errors.ts`; the client switches on `data.appCode`.
 */
export const APP_ERROR_CODES = [
  /** No valid session (anonymous, expired, revoked, user disabled). */
  'UNAUTHENTICATED',
  /** The password step is done but a second factor is owed; only MFA endpoints answer. */
  'MFA_REQUIRED',
  /** The organization requires MFA and the user has none: enrollment comes first. */
  'MFA_ENROLLMENT_REQUIRED',
  /** Signed in, but the role or organization does not allow this. */
  'FORBIDDEN',
  /** A sensitive action needs a fresh re-authentication (password or TOTP). */
  'REAUTH_REQUIRED',
  /** Removing or replacing a second factor needs a fresh re-authentication with that factor (a code). */
  'REAUTH_SECOND_FACTOR_REQUIRED',
  /** Generic sign-in failure; never says whether the email exists. */
  'INVALID_CREDENTIALS',
  /** The password was right but an administrator disabled the account (told only after a correct password). */
  'ACCOUNT_DISABLED',
  'INVALID_CODE',
  'PASSWORD_POLICY',
  'EMAIL_TAKEN',
  /** The email's domain belongs to an organization that signs its people in through SSO. */
  'SSO_REQUIRED',
  'SIGN_UP_DISABLED',
  'INVALID_TOKEN',
  'RATE_LIMITED',
  /** Too many failed attempts for a while: this client (untrusted clients, or this known device) is refused until the window ends. */
  'ACCOUNT_LOCKED',
  /**
   * Too many wrong second-factor codes in a row (NIST 800-63B-4 §3.2.2): authenticator codes are
   * refused until a recovery code or an admin's MFA reset. Told only to someone past the password.
   */
  'MFA_LOCKED',
  'CSRF_REJECTED',
  'NOT_FOUND',
  /** Input that passed the schema but not the domain's rules (an invalid domain name, a refused issuer). */
  'INVALID_INPUT',
  /** The thing already exists (a domain this organization already claims). */
  'ALREADY_EXISTS',
  /** The change would leave the organization with no enabled owner (demoting or disabling the last one). */
  'LAST_OWNER',
  /** The database is unreachable or did not answer in time (503 + Retry-After); nothing was granted. */
  'SERVICE_UNAVAILABLE',
] as const

export type AppErrorCode = (typeof APP_ERROR_CODES)[number]

/** Reads the app code from a tRPC client error (or anything else), null when absent. */
export function getAppErrorCode(error: unknown): AppErrorCode | null {
  const data = (error as { data?: { appCode?: unknown } } | null)?.data
  const code = data?.appCode
  return typeof code === 'string' && (APP_ERROR_CODES as readonly string[]).includes(code) ? (code as AppErrorCode) : null
}
