/**
 * Server-only: the mail outbox, a table standing in for an SMTP relay in development, tests and
 * demos (`MAIL_TRANSPORT=outbox`). Reading it is how a developer, or a test, follows an emailed
 * link: no relay can run here, so this is the one sanctioned fake in the test suite (STYLE §9).
 */
import { desc } from 'drizzle-orm'
import { mailOutbox } from '../../../db/schema'
import type { Database } from '../db/client'
import { generateId } from '../ids'
import type { MailMessage } from './mail-message'

/** One stored message as the outbox page shows it; `html` is the HTML alternative, or null. */
export type OutboxMessage = { id: string; to: string; subject: string; text: string; html: string | null; createdAt: Date }

/** How many messages the outbox page lists (newest first). */
export const OUTBOX_PAGE_SIZE = 50

/** Stores a message in the outbox instead of sending it, both parts as they would go over SMTP. */
export async function insertOutboxMessage(db: Database, message: MailMessage, now: Date): Promise<void> {
  await db
    .insert(mailOutbox)
    .values({ id: generateId(), toAddress: message.to, subject: message.subject, textBody: message.text, htmlBody: message.html ?? null, createdAt: now })
}

/** The newest outbox messages, newest first. */
export async function listOutboxMessages(db: Database, limit = OUTBOX_PAGE_SIZE): Promise<OutboxMessage[]> {
  const rows = await db.select().from(mailOutbox).orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id)).limit(limit)
  return rows.map((row) => ({ id: row.id, to: row.toAddress, subject: row.subject, text: row.textBody, html: row.htmlBody, createdAt: row.createdAt }))
}
