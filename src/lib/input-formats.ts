/**
 * Client-safe: the formats of identifiers and codes people type or paste, one definition for the
 * server's input schemas and the UI's fields, so both sides read "123 456" the same way.
 */

/** Random ids (`src/server/ids.ts`): 26 lower-case base32 characters. */
export const ID_PATTERN = /^[a-z2-7]{26}$/

/** A TOTP code as the server accepts it after normalising. */
export const TOTP_CODE_PATTERN = /^[0-9]{6}$/

/** Drops every kind of whitespace: apps display codes as "123 456", and pasted text brings tabs or non-breaking spaces. */
export function normalizeTotpCode(value: string): string {
  return value.replace(/\s/g, '')
}
