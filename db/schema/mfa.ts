import { bigint, index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { caseSensitiveVarchar, idColumn, timestamp } from './columns'
import { users } from './users'

/**
 * TOTP factors. A row is pending until the user proves one code (`confirmed_at`); a user has at
 * most one confirmed factor. The secret is AES-256-GCM encrypted with the key named by `key_id`.
 */
export const totpCredentials = mysqlTable(
  'totp_credentials',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** base64url(iv ‖ ciphertext ‖ tag). */
    encryptedSecret: caseSensitiveVarchar('encrypted_secret', 255).notNull(),
    /** Which derived key encrypted it, so keys can rotate without a flag day. */
    keyId: varchar('key_id', { length: 16 }).notNull(),
    createdAt: timestamp('created_at').notNull(),
    confirmedAt: timestamp('confirmed_at'),
    /**
     * Highest RFC 6238 time step accepted so far. Verification advances it with a conditional
     * UPDATE (`WHERE last_used_step < ?`), so a code is accepted at most once, even under races.
     */
    lastUsedStep: bigint('last_used_step', { mode: 'number' }),
    /**
     * Second-factor attempts (TOTP or recovery code, sign-in or step-up) since the last fully
     * successful authentication: counted before each check, reset only by a success. At
     * `lockout.maxConsecutiveMfaFailures` TOTP codes are refused (NIST SP 800-63B-4 §3.2.2; ADR 016).
     * On the factor's row, so a new factor (re-enrollment, an admin's reset) starts from zero.
     */
    consecutiveFailures: int('consecutive_failures').notNull().default(0),
  },
  (table) => [
    // Every MFA check loads the user's factor.
    index('totp_credentials_user_idx').on(table.userId),
  ],
)

/** Single-use recovery codes; only an HMAC of each, keyed from APP_SECRET, is stored (`auth/mfa.ts`). */
export const recoveryCodes = mysqlTable(
  'recovery_codes',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: caseSensitiveVarchar('code_hash', 64).notNull(),
    createdAt: timestamp('created_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (table) => [
    // Consumption looks up (user, hash); counting remaining codes scans the user's rows.
    index('recovery_codes_user_hash_idx').on(table.userId, table.codeHash),
  ],
)
