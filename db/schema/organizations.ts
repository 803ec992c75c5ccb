import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core'
import { idColumn, timestamp } from './columns'

/** A tenant: owns users, verified domains, SSO connections and its MFA policy. */
export const organizations = mysqlTable(
  'organizations',
  {
    id: idColumn('id').primaryKey(),
    name: varchar('name', { length: 120 }).notNull(),
    /** URL-safe handle, unique; used by the CLI and admin URLs. */
    slug: varchar('slug', { length: 64 }).notNull(),
    /** 'optional' | 'required' | 'required_for_role' (then `mfa_required_min_role` applies). */
    mfaPolicy: varchar('mfa_policy', { length: 24 }).notNull().default('optional'),
    mfaRequiredMinRole: varchar('mfa_required_min_role', { length: 32 }),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    // CLI and admin look-ups by slug.
    uniqueIndex('organizations_slug_unique').on(table.slug),
  ],
)

export type Organization = typeof organizations.$inferSelect
