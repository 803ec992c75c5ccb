/**
 * Server-only: security notifications (OWASP ASVS 5.0 6.3.7; SPEC §1): the account owner is told
 * by mail of every change to how the account is protected — password changed or reset, second
 * factor enabled / disabled / reset by an admin, a recovery code used (and how many remain),
 * recovery codes regenerated, the account disabled or enabled by an admin, a sign-in from a new
 * device, authenticator codes blocked after too many wrong ones (ADR 016). One module owns the
 * templates (plain text and HTML) and the sending rule.
 *
 * What each mail says: what happened, when (UTC), from which address and browser, and what to do
 * if it was not the owner. What it never says: a password, code, token or link carrying one — a
 * notification read by an attacker in a compromised mailbox must give them nothing new.
 *
 * Spoofing: the user agent is chosen by whoever made the request, so it is never echoed; it is
 * reduced to a browser and system name from a fixed list ("Firefox on Linux"). The IP address is
 * printed only when it parses as one. No user-typed text (names, organization names) appears, as
 * in `account-mail.ts`. Every value in the HTML part is escaped.
 *
 * Sending never fails or undoes the action it reports: a failure is logged and audited as
 * `mail.notification_failed` (the action's own audit event is already written).
 */
import { isIP } from 'node:net'
import appConfig from '../../../app.config'
import { recordAuditEvent } from '../audit/audit-log'
import type { Database } from '../db/client'
import { getServerEnv } from '../env'
import type { MailMessage } from './mail-message'
import { sendMail } from './send-mail'

/** What the caller already has: the request's facts, with no tie to the transport (tRPC, server route, CLI). */
export type SecurityNotificationContext = { db: Database; now: Date; clientIp: string | null; userAgent: string | null }

/** The account to tell. */
export type NotificationRecipient = { id: string; email: string; organizationId: string | null }

export type SecurityEvent =
  | { kind: 'password-changed' }
  | { kind: 'password-reset' }
  | { kind: 'mfa-enabled' }
  | { kind: 'mfa-disabled' }
  | { kind: 'mfa-reset-by-admin' }
  | { kind: 'recovery-code-used'; remaining: number }
  | { kind: 'recovery-codes-regenerated' }
  | { kind: 'account-disabled-by-admin' }
  | { kind: 'account-enabled-by-admin' }
  | { kind: 'new-device-sign-in' }
  | { kind: 'mfa-locked'; failures: number }

export type SecurityEventKind = SecurityEvent['kind']

/** App pages the mails point to: plain paths, never a token. */
const FORGOT_PASSWORD_PATH = '/forgot-password'
const SECURITY_SETTINGS_PATH = '/settings/security'

/** `ifYou` replaces "If this was you, there is nothing to do." where there is something to do. */
type Template = { subject: string; happened: string; ifYou?: string; ifNotYou: string[] }

function templateFor(event: SecurityEvent, links: { forgotPassword: string; securitySettings: string }, appName: string): Template {
  const resetNow = `Reset your password now: ${links.forgotPassword}`
  const tellAdmin = 'Then tell your administrator.'
  switch (event.kind) {
    case 'password-changed':
      return {
        subject: `Your ${appName} password was changed`,
        happened: `The password of your ${appName} account was changed. Your other sessions were signed out.`,
        ifNotYou: ['If you did not change it, someone else knows your password.', resetNow, tellAdmin],
      }
    case 'password-reset':
      return {
        subject: `Your ${appName} password was reset`,
        happened: `The password of your ${appName} account was reset with a link sent to this address. Every session was signed out.`,
        ifNotYou: ['If you did not reset it, someone can read your mail or opened the link before you.', resetNow, 'Secure your mailbox, and tell your administrator.'],
      }
    case 'mfa-enabled':
      return {
        subject: `Two-factor authentication was turned on for ${appName}`,
        happened: `An authenticator app was added to your ${appName} account. Signing in now asks for its code.`,
        ifNotYou: ['If you did not add it, someone who knows your password bound their own authenticator to your account.', resetNow, tellAdmin],
      }
    case 'mfa-disabled':
      return {
        subject: `Two-factor authentication was turned off for ${appName}`,
        happened: `Two-factor authentication was turned off for your ${appName} account: signing in needs only the password.`,
        ifNotYou: ['If you did not turn it off, your account is at risk.', resetNow, `Then turn two-factor authentication back on: ${links.securitySettings}`, tellAdmin],
      }
    case 'mfa-reset-by-admin':
      return {
        subject: `An administrator reset two-factor authentication for your ${appName} account`,
        happened: `An administrator of your organization removed the authenticator and recovery codes of your ${appName} account and signed out every session. You can set up a new authenticator after signing in.`,
        ifNotYou: ['If you did not ask for this, contact your administrator at once.', `Set up two-factor authentication again: ${links.securitySettings}`],
      }
    case 'recovery-code-used': {
      const remaining = event.remaining === 1 ? '1 recovery code remains' : `${event.remaining} recovery codes remain`
      return {
        subject: `A recovery code was used to sign in to ${appName}`,
        happened: `A recovery code was used instead of your authenticator to sign in to your ${appName} account. ${remaining}.`,
        ifNotYou: [
          'If it was not you, someone has your password and one of your recovery codes.',
          resetNow,
          `Then generate new recovery codes: ${links.securitySettings}`,
          tellAdmin,
        ],
      }
    }
    case 'recovery-codes-regenerated':
      return {
        subject: `New ${appName} recovery codes were generated`,
        happened: `A new set of recovery codes was generated for your ${appName} account. The previous codes no longer work.`,
        ifNotYou: ['If you did not generate them, someone is signed in to your account.', resetNow, tellAdmin],
      }
    case 'account-disabled-by-admin':
      return {
        subject: `Your ${appName} account was disabled`,
        happened: `An administrator of your organization disabled your ${appName} account and signed out every session.`,
        ifNotYou: ['If you think this is a mistake, contact your administrator.'],
      }
    case 'account-enabled-by-admin':
      return {
        subject: `Your ${appName} account was enabled`,
        happened: `An administrator of your organization enabled your ${appName} account again. You can sign in.`,
        ifNotYou: ['If you did not expect this, contact your administrator.'],
      }
    case 'mfa-locked':
      return {
        subject: `Two-factor codes are blocked for your ${appName} account`,
        happened: `Wrong two-factor codes were entered ${event.failures} times in a row for your ${appName} account, so codes from your authenticator app are no longer accepted. A code is asked for only after the right password.`,
        ifYou: 'If this was you, sign in with one of your recovery codes: that unblocks your authenticator app. If you have none left, ask your administrator to reset your two-factor authentication.',
        ifNotYou: ['If it was not you, someone knows your password.', resetNow, 'Then sign in with a recovery code to unblock your authenticator app.', tellAdmin],
      }
    case 'new-device-sign-in':
      return {
        subject: `New sign-in to your ${appName} account`,
        happened: `Your ${appName} account was signed in to from a device it has not used before.`,
        ifNotYou: ['If it was not you, someone knows your password.', resetNow, `Then review your signed-in devices: ${links.securitySettings}`, tellAdmin],
      }
  }
}

const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChrome\/|\bCriOS\/|\bChromium\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
  [/\bcurl\//, 'curl'],
]
const SYSTEMS: Array<[RegExp, string]> = [
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b/, 'Linux'],
]

/**
 * "Firefox on Linux" from a user-agent header, using names from a fixed list only: the header is
 * the requester's own text, and echoing it would let anyone write into the owner's mail.
 */
export function describeUserAgent(userAgent: string | null): string {
  if (!userAgent) return 'an unknown browser'
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1]
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1]
  if (browser && system) return `${browser} on ${system}`
  if (browser) return browser
  if (system) return `a browser on ${system}`
  return 'an unknown browser'
}

/** The address as printed: only something that parses as an IP address. */
export function describeClientIp(clientIp: string | null): string {
  return clientIp && isIP(clientIp) !== 0 ? clientIp : 'an unknown address'
}

/** `2026-11-30 05:13 UTC`: unambiguous for a reader in any time zone. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!)
}

/** Escapes a line and turns the app's own absolute links in it into anchors. */
function htmlLine(line: string, appOrigin: string): string {
  const escaped = escapeHtml(line)
  const origin = escapeHtml(appOrigin)
  return escaped.replace(new RegExp(`${origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[A-Za-z0-9/_-]*`, 'g'), (url) => `<a href="${url}">${url}</a>`)
}

export type SecurityNotificationInput = {
  appName: string
  appUrl: URL
  to: string
  event: SecurityEvent
  occurredAt: Date
  clientIp: string | null
  userAgent: string | null
}

/** The notification mail (text and HTML) for one event. Pure. */
export function securityNotificationMail(input: SecurityNotificationInput): MailMessage {
  const links = { forgotPassword: new URL(FORGOT_PASSWORD_PATH, input.appUrl).toString(), securitySettings: new URL(SECURITY_SETTINGS_PATH, input.appUrl).toString() }
  const template = templateFor(input.event, links, input.appName)
  const facts = [
    `When: ${formatUtc(input.occurredAt)}`,
    `From: ${describeClientIp(input.clientIp)}, ${describeUserAgent(input.userAgent)}`,
    `Account: ${input.to}`,
  ]
  const ifYou = template.ifYou ?? 'If this was you, there is nothing to do.'
  const text = [template.happened, '', ...facts, '', ifYou, '', ...template.ifNotYou, '', `— ${input.appName}`].join('\n')
  const paragraph = (lines: string[]) => `<p>${lines.map((line) => htmlLine(line, input.appUrl.origin)).join('<br>\n')}</p>`
  const html = [
    '<!doctype html>',
    `<html><body style="font-family: sans-serif; line-height: 1.5; color: #0f172a">`,
    paragraph([template.happened]),
    paragraph(facts),
    paragraph([ifYou]),
    paragraph(template.ifNotYou),
    paragraph([`— ${input.appName}`]),
    '</body></html>',
  ].join('\n')
  return { to: input.to, subject: template.subject, text, html }
}

export type SendMail = (db: Database, message: MailMessage) => Promise<void>

/**
 * Tells the owner of `recipient` about `event`. Never throws and never undoes anything: a failed
 * send is logged (address and kind, never the body) and audited as `mail.notification_failed`.
 * With the outbox transport it resolves once the row is written (tests read it right after); with
 * SMTP it does not wait for the relay.
 */
export async function notifySecurityEvent(
  ctx: SecurityNotificationContext,
  recipient: NotificationRecipient,
  event: SecurityEvent,
  options: { send?: SendMail } = {},
): Promise<void> {
  const send = options.send ?? sendMail
  const delivery = (async () => {
    try {
      const message = securityNotificationMail({
        appName: appConfig.appName,
        appUrl: getServerEnv().appUrl,
        to: recipient.email,
        event,
        occurredAt: ctx.now,
        clientIp: ctx.clientIp,
        userAgent: ctx.userAgent,
      })
      await send(ctx.db, message)
    } catch (error) {
      await recordNotificationFailure(ctx, recipient, event.kind, error)
    }
  })()
  if (getServerEnv().mailTransport === 'outbox' || options.send) await delivery
}

async function recordNotificationFailure(ctx: SecurityNotificationContext, recipient: NotificationRecipient, kind: SecurityEventKind, error: unknown): Promise<void> {
  console.error(`[mail] security notification "${kind}" to ${recipient.email} failed:`, error instanceof Error ? error.message : error)
  try {
    await recordAuditEvent(ctx.db, {
      type: 'mail.notification_failed',
      organizationId: recipient.organizationId,
      subjectUserId: recipient.id,
      ip: ctx.clientIp,
      userAgent: ctx.userAgent,
      details: { kind },
    })
  } catch (auditError) {
    // The database may be what failed; the log line above is then the only trace.
    console.error('[mail] could not audit the failed notification:', auditError instanceof Error ? auditError.message : auditError)
  }
}
