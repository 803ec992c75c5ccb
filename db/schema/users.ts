import { index, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core'
import type { Role } from '../../src/lib/roles'
import { idColumn, timestamp } from './columns'
import { organizations } from './organizations'

/** An account. Emails are normalised (trimmed, lower-cased) before they reach this table. */
export const users = mysqlTable(
  'users',
  {
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').references(() => organizations.id),
    email: varchar('email', { length: 254 }).notNull(),
    emailVerifiedAt: timestamp('email_verified_at'),
    name: varchar('name', { length: 120 }).notNull(),
    /** argon2id PHC string; null for SSO-only users. */
    passwordHash: varchar('password_hash', { length: 255 }),
    /** One of `app.config.ts` roles, read from here on every request. */
    role: varchar('role', { length: 32 }).$type<Role>().notNull(),
    disabledAt: timestamp('disabled_at'),
    /** Set while the user has a confirmed TOTP factor; read with the session so MFA state costs no extra query. */
    mfaEnabledAt: timestamp('mfa_enabled_at'),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (table) => [
    // Sign-in and sign-up look up by email; uniqueness is the database's promise, not the app's.
    uniqueIndex('users_email_unique').on(table.email),
    // Admin console lists an organization's users.
    index('users_organization_idx').on(table.organizationId),
  ],
)

export type User = typeof users.$inferSelect
