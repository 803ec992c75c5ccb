import { Link, createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import appConfig from '../../app.config'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { NewPasswordField } from '../components/password-field'
import { Alert } from '../components/ui/alert'
import { Button } from '../components/ui/button'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useAuthSync } from '../lib/use-auth-sync'

export const Route = createFileRoute('/reset-password')({
  validateSearch: (search: Record<string, unknown>): { token?: string } => (typeof search.token === 'string' ? { token: search.token } : {}),
  head: () => ({ meta: [{ title: 'Choose a new password · Gatehouse' }] }),
  component: ResetPasswordPage,
})

function toResetFormError(error: unknown): FormError {
  const described = describeFormError(error)
  if (described.appCode === 'PASSWORD_POLICY') return { ...described, message: null, fields: { password: described.message ?? '' } }
  return described
}

function ResetPasswordPage() {
  const { token } = Route.useSearch()
  const authSync = useAuthSync()
  const resetPassword = trpc.auth.resetPassword.useMutation()
  const [password, setPassword] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const [isDone, setIsDone] = useState(false)

  if (!token) {
    return (
      <AuthCard title="This link is incomplete" description="Open the link from your email again, or ask for a new one.">
        <Link to="/forgot-password" className={TEXT_LINK_CLASS}>
          Send me a new link
        </Link>
      </AuthCard>
    )
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await resetPassword.mutateAsync({ token: token!, password })
    } catch (error) {
      setFormError(toResetFormError(error))
      return
    }
    setIsDone(true)
    // A reset ends every session of the account: tabs still showing it follow now.
    await authSync.syncAfterLocalChange('signed-out')
  }

  if (isDone) {
    return (
      <AuthCard title="Password changed">
        <div className="flex flex-col gap-4">
          <Alert tone="success">Your password has been changed and every session of your account was signed out.</Alert>
          <Link to="/login" className={TEXT_LINK_CLASS}>
            Sign in with your new password
          </Link>
        </div>
      </AuthCard>
    )
  }

  return (
    <AuthCard title="Choose a new password" description="After this, every device signed in to your account will be signed out.">
      <form className="flex flex-col gap-4" onSubmit={submit} noValidate>
        <Alert>
          {formError.message}
          {formError.appCode === 'INVALID_TOKEN' && (
            <>
              {' '}
              <Link to="/forgot-password" className={TEXT_LINK_CLASS}>
                Request a new link
              </Link>
              .
            </>
          )}
        </Alert>
        <NewPasswordField
          label="New password"
          name="password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          hint={`At least ${appConfig.password.minLengthWithoutMfa} characters (${appConfig.password.minLengthWithMfa} if you use two-factor authentication), at most ${appConfig.password.maxLength}.`}
          error={formError.fields.password}
        />
        <Button type="submit" isLoading={resetPassword.isPending}>
          Change password
        </Button>
      </form>
    </AuthCard>
  )
}
