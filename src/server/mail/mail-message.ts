/** Server-only: the shape of an outgoing message (plain text only: no HTML to sanitise, nothing to track). */
export type MailMessage = {
  /** A normalised, validated address (never a display name: nothing user-typed reaches a header). */
  to: string
  subject: string
  text: string
}
