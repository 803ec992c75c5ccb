/** Step 1 of sign-in: the email alone, so the server can say whether it belongs to an SSO domain. */
import type { FormEvent, Ref } from 'react'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'
import { TextField } from '../ui/text-field'
import type { FormError } from '../../lib/form-errors'

export type EmailStepProps = {
  email: string
  onEmailChange: (email: string) => void
  onSubmit: () => void
  isPending: boolean
  formError: FormError
  emailInputRef: Ref<HTMLInputElement>
}

/**
 * `autoComplete="username"` on a form with no password field is what Chromium's password manager
 * recognises as the first page of a username-first sign-in: it offers the saved addresses here
 * and the matching password on the next step.
 */
export function EmailStep({ email, onEmailChange, onSubmit, isPending, formError, emailInputRef }: EmailStepProps) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    onSubmit()
  }
  return (
    <form method="post" className="flex flex-col gap-4" onSubmit={submit} noValidate>
      <Alert>{formError.message}</Alert>
      <TextField
        ref={emailInputRef}
        label="Email"
        type="email"
        name="email"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        required
        value={email}
        onChange={(event) => onEmailChange(event.target.value)}
        error={formError.fields.email}
      />
      <Button type="submit" isLoading={isPending}>
        Continue
      </Button>
    </form>
  )
}
