import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core'
import type { Role } from '../../src/lib/roles'
import { idColumn, timestamp } from './columns'

/** Who must use a second factor: nobody by force, everyone, or roles at or above `mfa_required_min_role`. */
export const MFA_POLICIES = ['optional', 'required', 'required_for_role'] as const
export type MfaPolicy = (typeof MFA_POLICIES)[number]

/** A tenant: owns its users and its MFA policy (SSO domains and connections will hang off it). */
export const organizations = mysqlTable(
  'organizations',
  {
    id: idColumn('id').primaryKey(),
    name: varchar('name', { length: 120 }).notNull(),
    /** URL-safe handle, unique; used by the CLI and admin URLs. */
    slug: varchar('slug', { length: 64 }).notNull(),
    /** With `required_for_role`, `mfa_required_min_role` names the lowest role that must use MFA. */
    mfaPolicy: varchar('mfa_policy', { length: 24 }).$type<MfaPolicy>().notNull().default('optional'),
    mfaRequiredMinRole: varchar('mfa_required_min_role', { length: 32 }).$type<Role>(),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    // CLI and admin look-ups by slug.
    uniqueIndex('organizations_slug_unique').on(table.slug),
  ],
)

export type Organization = typeof organizations.$inferSelect
