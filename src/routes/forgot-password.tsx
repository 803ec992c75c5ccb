import { Link, createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { Alert } from '../components/ui/alert'
import { Button } from '../components/ui/button'
import { TextField } from '../components/ui/text-field'
import { parseRedirectSearch, redirectAwayFromGuestPage } from '../lib/auth-redirects'
import { describeFormError, NO_FORM_ERROR } from '../lib/form-errors'
import { trpc } from '../lib/trpc'

export const Route = createFileRoute('/forgot-password')({
  validateSearch: parseRedirectSearch,
  beforeLoad: ({ context, search }) => redirectAwayFromGuestPage(context.viewer, search.redirect),
  head: () => ({ meta: [{ title: 'Reset your password · Gatehouse' }] }),
  component: ForgotPasswordPage,
})

function ForgotPasswordPage() {
  const requestReset = trpc.auth.requestPasswordReset.useMutation()
  const [email, setEmail] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const [sentTo, setSentTo] = useState<string | null>(null)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await requestReset.mutateAsync({ email })
      setSentTo(email)
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  const backToSignIn = (
    <Link to="/login" className={TEXT_LINK_CLASS}>
      Back to sign in
    </Link>
  )

  if (sentTo) {
    // The same answer whether or not the account exists (no account enumeration).
    return (
      <AuthCard title="Check your email" footer={backToSignIn}>
        <Alert tone="success">
          If an account exists for <strong>{sentTo}</strong>, we’ve sent it a link to choose a new password. The link works once and expires soon.
        </Alert>
      </AuthCard>
    )
  }

  return (
    <AuthCard title="Reset your password" description="Enter the email you sign in with and we’ll send you a link to choose a new password." footer={backToSignIn}>
      <form method="post" className="flex flex-col gap-4" onSubmit={submit} noValidate>
        <Alert>{formError.message}</Alert>
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={formError.fields.email}
        />
        <Button type="submit" isLoading={requestReset.isPending}>
          Send reset link
        </Button>
      </form>
    </AuthCard>
  )
}
