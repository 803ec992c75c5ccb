/** Step 2 of sign-in for addresses outside SSO domains: the password, with the email shown above it. */
import { Link } from '@tanstack/react-router'
import type { FormEvent, Ref } from 'react'
import { TEXT_LINK_CLASS } from '../auth-card'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'
import { TextField } from '../ui/text-field'
import type { FormError } from '../../lib/form-errors'

export type PasswordStepProps = {
  email: string
  password: string
  onPasswordChange: (password: string) => void
  onSubmit: () => void
  onUseAnotherEmail: () => void
  isPending: boolean
  formError: FormError
  passwordInputRef: Ref<HTMLInputElement>
}

/**
 * The email stays in this form as a hidden `autocomplete="username"` input next to the password,
 * as Chromium's "Password Form Styles that Chromium Understands" asks of email-first flows: the
 * password manager pairs the two when it offers to save or update the credential, and fills the
 * password for that account. Hidden (display: none), it is neither a second tab stop nor a second
 * "Email" label; the address is shown as text with a way back to step 1. The form disappears
 * after a successful `auth.signIn` (the page moves on), which is how Chromium recognises a
 * script-submitted sign-in as done.
 */
export function PasswordStep({ email, password, onPasswordChange, onSubmit, onUseAnotherEmail, isPending, formError, passwordInputRef }: PasswordStepProps) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    onSubmit()
  }
  return (
    <form method="post" className="flex flex-col gap-4" onSubmit={submit} noValidate>
      <Alert>{formError.message}</Alert>
      <input type="email" name="email" autoComplete="username" value={email} readOnly hidden />
      <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 rounded-md bg-slate-50 px-3 py-2 text-sm">
        <span className="min-w-0 break-all font-medium text-slate-900" data-testid="sign-in-email">
          {email}
        </span>
        <button type="button" className={TEXT_LINK_CLASS} onClick={onUseAnotherEmail}>
          Use another email
        </button>
      </div>
      <TextField
        ref={passwordInputRef}
        label="Password"
        type="password"
        name="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(event) => onPasswordChange(event.target.value)}
        error={formError.fields.password}
      />
      <div className="-mt-1 text-right text-sm">
        <Link to="/forgot-password" className={TEXT_LINK_CLASS}>
          Forgot your password?
        </Link>
      </div>
      <Button type="submit" isLoading={isPending}>
        Sign in
      </Button>
    </form>
  )
}
