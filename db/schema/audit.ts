import { bigint, index, json, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { caseSensitiveVarchar, idColumn, timestamp } from './columns'

/**
 * Append-only, hash-chained security log. Each row's `hash` covers its content and the previous
 * row's hash, so deleting or editing a row breaks the chain (`gatehouse audit:verify`).
 */
export const auditEvents = mysqlTable(
  'audit_events',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    organizationId: idColumn('organization_id'),
    actorUserId: idColumn('actor_user_id'),
    subjectUserId: idColumn('subject_user_id'),
    /** Dotted event name, e.g. `auth.sign_in.failed`. */
    type: varchar('type', { length: 64 }).notNull(),
    ip: varchar('ip', { length: 45 }),
    userAgent: varchar('user_agent', { length: 512 }),
    /** Non-secret details only; never passwords, tokens, codes or hashes. */
    details: json('details').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at').notNull(),
    previousHash: caseSensitiveVarchar('previous_hash', 64).notNull(),
    hash: caseSensitiveVarchar('hash', 64).notNull(),
  },
  (table) => [
    // Admin console: an organization's events, newest first.
    index('audit_events_organization_idx').on(table.organizationId, table.id),
  ],
)

export type AuditEvent = typeof auditEvents.$inferSelect
