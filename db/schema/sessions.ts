import { type AnyMySqlColumn, boolean, index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { caseSensitiveVarchar, idColumn, timestamp } from './columns'
import { ssoConnections } from './sso'
import { users } from './users'

/** How a session's user proved who they are. */
export const AUTH_METHODS = ['password', 'oidc', 'saml'] as const
export type AuthMethod = (typeof AUTH_METHODS)[number]

/** What the latest proof of presence on a session was: removing a second factor needs the second factor. */
export const REAUTH_FACTORS = ['password', 'totp', 'recovery_code', 'idp'] as const
export type ReauthFactor = (typeof REAUTH_FACTORS)[number]
/** How this session satisfied MFA: Gatehouse's TOTP, a recovery code, or the IdP's asserted MFA. */
export type SessionMfaMethod = 'totp' | 'recovery_code' | 'idp'

/**
 * Server-side sessions after Lucia's design (ADR 001). The cookie carries `<id>.<secret>`;
 * this row holds the id and only the SHA-256 of the secret, so a leaked table grants nothing.
 */
export const sessions = mysqlTable(
  'sessions',
  {
    id: idColumn('id').primaryKey(),
    /** Hex SHA-256 of the token's secret half; compared in constant time. */
    secretHash: caseSensitiveVarchar('secret_hash', 64).notNull(),
    userId: idColumn('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
    /** Idle expiry: pushed forward by sliding renewal, never past `absolute_expires_at`. */
    expiresAt: timestamp('expires_at').notNull(),
    absoluteExpiresAt: timestamp('absolute_expires_at').notNull(),
    /** Last renewal write (at most once per renewal interval, not per request). */
    lastSeenAt: timestamp('last_seen_at').notNull(),
    ip: varchar('ip', { length: 45 }),
    userAgent: varchar('user_agent', { length: 512 }),
    authMethod: varchar('auth_method', { length: 16 }).$type<AuthMethod>().notNull(),
    /** The connection an SSO session came through; deleting the connection ends its sessions. */
    ssoConnectionId: idColumn('sso_connection_id').references((): AnyMySqlColumn => ssoConnections.id, { onDelete: 'cascade' }),
    /** Null while a second factor is still owed ("MFA pending") or was never needed. */
    mfaSatisfiedAt: timestamp('mfa_satisfied_at'),
    /** Set together with `mfa_satisfied_at`. */
    mfaMethod: varchar('mfa_method', { length: 16 }).$type<SessionMfaMethod>(),
    /** The IdP's asserted `amr`/`acr` (or SAML AuthnContextClassRef), bounded, for display and audit; never a secret. */
    idpAuthnContext: varchar('idp_authn_context', { length: 255 }),
    /** Wrong codes against this session's MFA challenge; capped by `mfa.maxAttemptsPerChallenge`. */
    mfaFailedAttempts: int('mfa_failed_attempts').notNull().default(0),
    /** Latest proof of presence (sign-in or step-up); sensitive procedures compare against it. */
    reauthenticatedAt: timestamp('reauthenticated_at').notNull(),
    /** What that proof was; NIST 800-63B-4: removing an authenticator needs the factor being removed. */
    reauthenticatedWith: varchar('reauthenticated_with', { length: 16 }).$type<ReauthFactor>().notNull().default('password'),
    /**
     * Set by a password sign-in of a user without a second factor whose password meets only the
     * policy for a password beside a second factor (NIST SP 800-63B-4 §3.1.1.2: 8 characters then,
     * 15 alone): the session must enroll a factor before anything else (ADR 018).
     */
    passwordNeedsSecondFactor: boolean('password_needs_second_factor').notNull().default(false),
  },
  (table) => [
    // "List my sessions", "revoke all of a user's sessions".
    index('sessions_user_idx').on(table.userId),
    // The scheduled purge deletes by expiry.
    index('sessions_expires_idx').on(table.expiresAt),
    // Disabling a connection revokes the sessions it created.
    index('sessions_sso_connection_idx').on(table.ssoConnectionId),
  ],
)

export type Session = typeof sessions.$inferSelect
