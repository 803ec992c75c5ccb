import { index, int, mysqlTable } from 'drizzle-orm/mysql-core'
import { caseSensitiveVarchar, timestamp } from './columns'

/**
 * Fixed-window counters shared by every instance (rate limits and per-account lockout). One row
 * per bucket key, `<policy>:<subject>` (e.g. `signInPerIp:203.0.113.7`, `lockout:untrusted:<user
 * id>`, `lockout:device:<user id>:<device id>`); updated with one atomic upsert per attempt.
 */
export const rateLimitBuckets = mysqlTable(
  'rate_limit_buckets',
  {
    /** Policy name + subject; subjects are IPs, user ids, email hashes or device ids, never raw emails or secrets. */
    key: caseSensitiveVarchar('key', 191).primaryKey(),
    windowStartedAt: timestamp('window_started_at').notNull(),
    count: int('count').notNull(),
    /** When the row is useless and the purge job may delete it. */
    expiresAt: timestamp('expires_at').notNull(),
  },
  (table) => [
    // The purge job deletes expired buckets.
    index('rate_limit_buckets_expires_idx').on(table.expiresAt),
  ],
)
