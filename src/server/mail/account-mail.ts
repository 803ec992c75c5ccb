/**
 * Server-only, pure: the text of the account mails (password reset, email verification).
 *
 * No user-typed text (name, organization) goes into these mails: anyone can sign up with a
 * stranger's address, so the verification mail reaches a mailbox the typist does not own, and a
 * "name" like "Your account is locked, call …" would turn Gatehouse into a phishing relay (OWASP
 * ASVS 5.x, content spoofing). The mails carry only the app's own name and link.
 */
import type { MailMessage } from './mail-message'

function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) {
    const hours = seconds / 3600
    return hours === 1 ? '1 hour' : `${hours} hours`
  }
  const minutes = Math.round(seconds / 60)
  return minutes === 1 ? '1 minute' : `${minutes} minutes`
}

/** Builds a link to an app page carrying a one-time token in the query string. */
export function buildTokenLink(appUrl: URL, pathname: string, token: string): string {
  const link = new URL(pathname, appUrl)
  link.searchParams.set('token', token)
  return link.toString()
}

/** The password-reset mail. */
export function passwordResetMail(input: { appName: string; to: string; link: string; ttlSeconds: number }): MailMessage {
  return {
    to: input.to,
    subject: `Reset your ${input.appName} password`,
    text: [
      `Someone asked to reset the password of the ${input.appName} account for ${input.to}.`,
      '',
      `To choose a new password, open this link within ${formatDuration(input.ttlSeconds)}:`,
      '',
      input.link,
      '',
      'The link works once. Resetting signs you out everywhere; then sign in with the new password',
      '(and your authenticator code, if you use one).',
      '',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ].join('\n'),
  }
}

/** The email-verification mail. */
export function emailVerificationMail(input: { appName: string; to: string; link: string; ttlSeconds: number }): MailMessage {
  return {
    to: input.to,
    subject: `Confirm your email for ${input.appName}`,
    text: [
      `Confirm that ${input.to} belongs to your ${input.appName} account by opening this link within ${formatDuration(input.ttlSeconds)}:`,
      '',
      input.link,
      '',
      `If you did not create a ${input.appName} account, ignore this mail.`,
    ].join('\n'),
  }
}
