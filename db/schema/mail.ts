import { index, mysqlTable, text, varchar } from 'drizzle-orm/mysql-core'
import { idColumn, timestamp } from './columns'

/**
 * The development outbox: when no SMTP relay is configured (development, tests, or an explicit
 * `MAIL_TRANSPORT=outbox`), mail lands here and the dev outbox page shows it.
 */
export const mailOutbox = mysqlTable(
  'mail_outbox',
  {
    id: idColumn('id').primaryKey(),
    toAddress: varchar('to_address', { length: 254 }).notNull(),
    subject: varchar('subject', { length: 255 }).notNull(),
    textBody: text('text_body').notNull(),
    /** The HTML alternative, when the message has one (security notifications); the page shows it sandboxed. */
    htmlBody: text('html_body'),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    // The outbox page and tests read a recipient's newest mail.
    index('mail_outbox_recipient_idx').on(table.toAddress, table.createdAt),
  ],
)
