import { type AnyMySqlColumn, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core'
import type { Role } from '../../src/lib/roles'
import { idColumn, timestamp } from './columns'
import { users } from './users'

/**
 * What an SSO sign-in does about MFA: `require_gatehouse_mfa` (the default) always asks for
 * Gatehouse's own factor per `mfa_policy`; `trust_idp_mfa` accepts the IdP's assertion when it
 * names a value the connection lists as MFA.
 */
export type SsoMfaMode = 'require_gatehouse_mfa' | 'trust_idp_mfa'

/** Who must use a second factor: nobody by force, everyone, or roles at or above `mfa_required_min_role`. */
export const MFA_POLICIES = ['optional', 'required', 'required_for_role'] as const
export type MfaPolicy = (typeof MFA_POLICIES)[number]

/** A tenant: owns its users, verified domains, SSO connections, MFA policy and SSO policy. */
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
    /** Set while SSO is mandatory for the organization's verified domains (password sign-in refused). */
    ssoEnforcedAt: timestamp('sso_enforced_at'),
    /** The owner who keeps password + MFA while SSO is enforced, and whom no group mapping demotes. */
    breakGlassUserId: idColumn('break_glass_user_id').references((): AnyMySqlColumn => users.id, { onDelete: 'set null' }),
    ssoMfaMode: varchar('sso_mfa_mode', { length: 32 }).$type<SsoMfaMode>().notNull().default('require_gatehouse_mfa'),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    // CLI and admin look-ups by slug.
    uniqueIndex('organizations_slug_unique').on(table.slug),
  ],
)

export type Organization = typeof organizations.$inferSelect
