/**
 * The 6-digit authenticator code input: numeric keypad on phones, and `one-time-code` so browsers
 * and password managers can offer the code. Spaces are allowed ("123 456" as apps display it).
 */
import { normalizeTotpCode } from '../../lib/input-formats'
import { TextField, type TextFieldProps } from '../ui/text-field'

/** Keeps digits and single spaces only, at most "123 456". */
export function cleanTotpInput(value: string): string {
  return value.replace(/[^0-9 ]/g, '').slice(0, 7)
}

/** Digits only, for the server (which normalises the same way). */
export function toTotpCode(value: string): string {
  return normalizeTotpCode(value)
}

export function TotpCodeField({ label = 'Authentication code', ...props }: Omit<TextFieldProps, 'label'> & { label?: string }) {
  return (
    <TextField
      label={label}
      name="code"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9 ]*"
      maxLength={7}
      spellCheck={false}
      className="max-w-48"
      {...props}
    />
  )
}
