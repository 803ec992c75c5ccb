import { Link, createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import appConfig from '../../app.config'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { NewPasswordField } from '../components/password-field'
import { Alert } from '../components/ui/alert'
import { Button } from '../components/ui/button'
import { Spinner } from '../components/ui/spinner'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../lib/form-errors'
import { describeOneTimeLinkForPage, fingerprintOneTimeToken, SECRET_IN_URL_PAGE_HEADERS, validateOneTimeLinkSearch } from '../lib/one-time-link-pages'
import { trpc } from '../lib/trpc'
import { useAuthSync } from '../lib/use-auth-sync'

export const Route = createFileRoute('/reset-password')({
  validateSearch: validateOneTimeLinkSearch,
  // The URL carries the reset token: not stored by any cache, not sent on in a Referer.
  headers: () => SECRET_IN_URL_PAGE_HEADERS,
  loaderDeps: ({ search }) => ({ link: fingerprintOneTimeToken(search.token) }),
  // What the link is, in the first HTML (in-process during SSR): a used or expired link says so
  // before the form appears. A failed lookup falls back to the form.
  loader: ({ context, location }) => describeOneTimeLinkForPage(context.trpcClient, validateOneTimeLinkSearch(location.search).token, 'password_reset'),
  pendingComponent: CheckingLinkCard,
  head: () => ({ meta: [{ title: 'Choose a new password · Gatehouse' }] }),
  component: ResetPasswordPage,
})

function CheckingLinkCard() {
  return (
    <AuthCard title="Choose a new password">
      <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
        <Spinner /> Checking your link…
      </p>
    </AuthCard>
  )
}

/** Titles for a link that cannot set a password (the server said which, before any input). */
const UNUSABLE_LINK_TITLES: Record<'used' | 'expired' | 'invalid', string> = {
  used: 'This link was already used',
  expired: 'This link has expired',
  invalid: 'This link doesn’t work',
}

const UNUSABLE_LINK_DESCRIPTIONS: Record<'used' | 'expired' | 'invalid', string> = {
  used: 'Each reset link works once. If you just chose a new password, sign in with it; otherwise ask for a new link.',
  expired: 'Reset links stop working after a short while, so that an old email cannot open your account. Ask for a new one.',
  invalid: 'It may be incomplete, or a newer link replaced it. Ask for a new one.',
}

function toResetFormError(error: unknown): FormError {
  const described = describeFormError(error)
  if (described.appCode === 'PASSWORD_POLICY') return { ...described, message: null, fields: { password: described.message ?? '' } }
  return described
}

function ResetPasswordPage() {
  const { token } = Route.useSearch()
  const authSync = useAuthSync()
  const resetPassword = trpc.auth.resetPassword.useMutation()
  const { status: linkStatus } = Route.useLoaderData()
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

  // `already_verified` belongs to verification links; a reset link is valid or one of these.
  if (linkStatus === 'used' || linkStatus === 'expired' || linkStatus === 'invalid') {
    return (
      <AuthCard title={UNUSABLE_LINK_TITLES[linkStatus]} description={UNUSABLE_LINK_DESCRIPTIONS[linkStatus]}>
        <div className="flex flex-col gap-3 text-sm">
          <Link to="/forgot-password" className={TEXT_LINK_CLASS}>
            Send me a new link
          </Link>
          <Link to="/login" className={TEXT_LINK_CLASS}>
            Sign in
          </Link>
        </div>
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
    await authSync.syncAfterLocalChange('session-ended')
  }

  return (
    <AuthCard title="Choose a new password" description="After this, every device signed in to your account will be signed out.">
      <form method="post" className="flex flex-col gap-4" onSubmit={submit} noValidate>
        {/* Only with a message: an Alert given [null, false] children would render an empty box. */}
        <Alert>
          {formError.message && (
            <>
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
