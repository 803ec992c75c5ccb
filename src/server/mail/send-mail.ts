/**
 * Server-only: the one way the app sends mail. `MAIL_TRANSPORT=smtp` hands messages to nodemailer
 * over SMTP_URL; `outbox` stores them in `mail_outbox` (development, tests, demos).
 */
import { createTransport } from 'nodemailer'
import { now } from '../clock'
import type { Database } from '../db/client'
import { getServerEnv } from '../env'
import { onShutdown } from '../lifecycle'
import type { MailMessage } from './mail-message'
import { insertOutboxMessage } from './outbox'

type SmtpTransport = ReturnType<typeof createTransport>

let smtpTransport: SmtpTransport | undefined
const deliveriesInFlight = new Set<Promise<void>>()

/** The process's SMTP transport, created on first use and reused (one TLS/auth setup, not one per mail). */
function getSmtpTransport(smtpUrl: string, from: string): SmtpTransport {
  if (smtpTransport) return smtpTransport
  const created = createTransport(smtpUrl, { from })
  smtpTransport = created
  onShutdown(async () => {
    // Let messages already handed over finish before the connection closes.
    await Promise.allSettled([...deliveriesInFlight])
    if (smtpTransport === created) smtpTransport = undefined
    created.close()
  })
  return created
}

/** Sends one message and resolves once the relay accepted it (or the outbox row is written); throws on failure. */
export async function sendMail(db: Database, message: MailMessage): Promise<void> {
  const env = getServerEnv()
  if (env.mailTransport === 'outbox') {
    await insertOutboxMessage(db, message, now())
    return
  }
  // parseServerEnv guarantees SMTP_URL whenever the transport is smtp.
  await getSmtpTransport(env.smtpUrl!, env.mailFrom).sendMail({ to: message.to, subject: message.subject, text: message.text, ...(message.html ? { html: message.html } : {}) })
}

/**
 * Sends without making the caller wait for an SMTP relay. A password-reset request must answer in
 * the same time whether or not the account exists (user enumeration by timing, OWASP WSTG-IDNT-04),
 * and a relay round trip is tens to hundreds of milliseconds; a failing relay must not fail a
 * sign-up either. Outbox rows are still written before this resolves (a cheap insert), so a test
 * can read the link right after the call. A failed SMTP delivery is logged for the operator (the
 * address, never the body, which holds a live link); the user can ask for a new link.
 */
export async function sendMailInBackground(db: Database, message: MailMessage): Promise<void> {
  if (getServerEnv().mailTransport === 'outbox') return sendMail(db, message)
  const delivery = sendMail(db, message).catch((error: unknown) => {
    console.error(`[mail] delivery to ${message.to} failed:`, error instanceof Error ? error.message : error)
  })
  deliveriesInFlight.add(delivery)
  void delivery.finally(() => deliveriesInFlight.delete(delivery))
}
