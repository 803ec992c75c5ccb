import { index, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { caseSensitiveVarchar, idColumn, timestamp } from './columns'
import { users } from './users'

/**
 * Emailed single-use secrets (password reset, email verification). Only the SHA-256 of the token
 * is stored; consumption is a conditional `UPDATE … WHERE used_at IS NULL` checked by affected rows.
 */
export const oneTimeTokens = mysqlTable(
  'one_time_tokens',
  {
    /** Hex SHA-256 of the emailed token. */
    tokenHash: caseSensitiveVarchar('token_hash', 64).primaryKey(),
    userId: idColumn('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** 'password_reset' | 'email_verification'. */
    purpose: varchar('purpose', { length: 32 }).notNull(),
    /** The address the token was sent to; verification applies only if it is still the user's. */
    email: varchar('email', { length: 254 }).notNull(),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (table) => [
    // Issuing a new token invalidates the user's earlier unused ones of the same purpose.
    index('one_time_tokens_user_purpose_idx').on(table.userId, table.purpose),
    // Purge of expired tokens.
    index('one_time_tokens_expires_idx').on(table.expiresAt),
  ],
)
