/**
 * Server-only: the shape of an outgoing message. Plain text always; an HTML alternative only from
 * templates that escape every value (`security-notifications.ts`), never remote content or tracking.
 */
export type MailMessage = {
  /** A normalised, validated address (never a display name: nothing user-typed reaches a header). */
  to: string
  subject: string
  text: string
  /** Optional HTML alternative, sent over SMTP and kept by the outbox (shown there sandboxed). */
  html?: string
}
