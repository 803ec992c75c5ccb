import { Link, createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import appConfig from '../../app.config'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { NewPasswordField } from '../components/password-field'
import { Alert } from '../components/ui/alert'
import { Button } from '../components/ui/button'
import { TextField } from '../components/ui/text-field'
import { parseRedirectSearch, redirectAwayFromGuestPage } from '../lib/auth-redirects'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useAuthSync } from '../lib/use-auth-sync'

export const Route = createFileRoute('/signup')({
  validateSearch: parseRedirectSearch,
  beforeLoad: ({ context, search }) => redirectAwayFromGuestPage(context.viewer, search.redirect),
  head: () => ({ meta: [{ title: 'Create an account · Gatehouse' }] }),
  component: SignUpPage,
})

/** Puts the server's policy and duplicate-email answers next to the field they are about. */
function toSignUpFormError(error: unknown): FormError {
  const described = describeFormError(error)
  if (described.appCode === 'PASSWORD_POLICY') return { ...described, message: null, fields: { password: described.message ?? '' } }
  if (described.appCode === 'EMAIL_TAKEN') return { ...described, message: null, fields: { email: described.message ?? '' } }
  return described
}

function SignUpPage() {
  const search = Route.useSearch()
  const authSync = useAuthSync()
  const signUp = trpc.auth.signUp.useMutation()
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const [isFinishing, setIsFinishing] = useState(false)

  if (!appConfig.signUp.isEnabled) {
    return (
      <AuthCard title="Sign-up is closed" description="Ask your organization's administrator for an account.">
        <Link to="/login" search={search} className={TEXT_LINK_CLASS}>
          Back to sign in
        </Link>
      </AuthCard>
    )
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await signUp.mutateAsync({ name, email, password })
    } catch (error) {
      setFormError(toSignUpFormError(error))
      return
    }
    // The new session is live; this page's guard forwards to the target once the viewer knows it.
    setIsFinishing(true)
    await authSync.syncAfterLocalChange('signed-in')
  }

  return (
    <AuthCard
      title="Create your account"
      description="It takes a minute. We'll send you an email to confirm your address."
      footer={
        <>
          Already have an account?{' '}
          <Link to="/login" search={search} className={TEXT_LINK_CLASS}>
            Sign in
          </Link>
        </>
      }
    >
      <form method="post" className="flex flex-col gap-4" onSubmit={submit} noValidate>
        <Alert>{formError.message}</Alert>
        <TextField label="Name" name="name" autoComplete="name" required value={name} onChange={(event) => setName(event.target.value)} error={formError.fields.name} />
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
        <NewPasswordField
          label="Password"
          name="password"
          required
          minLength={appConfig.password.minLengthWithoutMfa}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          hint={`At least ${appConfig.password.minLengthWithoutMfa} characters, at most ${appConfig.password.maxLength}. A few unrelated words make a strong, memorable passphrase.`}
          error={formError.fields.password}
        />
        <Button type="submit" isLoading={signUp.isPending || isFinishing}>
          Create account
        </Button>
      </form>
    </AuthCard>
  )
}
