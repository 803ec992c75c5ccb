import { Link, createFileRoute } from '@tanstack/react-router'
import { useEffect, useRef } from 'react'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { Alert } from '../components/ui/alert'
import { Spinner } from '../components/ui/spinner'
import { describeFormError } from '../lib/form-errors'
import { describeOneTimeLinkForPage, fingerprintOneTimeToken, SECRET_IN_URL_PAGE_HEADERS, validateOneTimeLinkSearch } from '../lib/one-time-link-pages'
import { trpc } from '../lib/trpc'
import { useViewer } from '../lib/use-viewer'

export const Route = createFileRoute('/verify-email')({
  validateSearch: validateOneTimeLinkSearch,
  // The URL carries the verification token: not stored by any cache, not sent on in a Referer.
  headers: () => SECRET_IN_URL_PAGE_HEADERS,
  loaderDeps: ({ search }) => ({ link: fingerprintOneTimeToken(search.token) }),
  // What the link is, read without using it (in-process during SSR): a reopened link for an
  // address that is verified says so instead of "invalid or expired".
  loader: ({ context, location }) => describeOneTimeLinkForPage(context.trpcClient, validateOneTimeLinkSearch(location.search).token, 'email_verification'),
  pendingComponent: VerifyingCard,
  head: () => ({ meta: [{ title: 'Verify your email · Gatehouse' }] }),
  component: VerifyEmailPage,
})

function VerifyingCard() {
  return (
    <AuthCard title="Verifying your email">
      <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
        <Spinner /> One moment…
      </p>
    </AuthCard>
  )
}

function VerifyEmailPage() {
  const { token } = Route.useSearch()
  const viewer = useViewer()
  const utils = trpc.useUtils()
  const verifyEmail = trpc.auth.verifyEmail.useMutation({
    onSuccess: () => utils.auth.me.invalidate(),
  })
  const { status: linkStatus } = Route.useLoaderData()
  // A failed lookup (rate limit, network: no status) falls back to trying the link, which gives its own answer.
  const shouldVerify = linkStatus === 'valid' || linkStatus === null
  const hasStartedRef = useRef(false)

  // Verified from the browser after load, never during SSR: a GET must not consume a single-use token.
  useEffect(() => {
    if (!token || !shouldVerify || hasStartedRef.current) return
    hasStartedRef.current = true
    verifyEmail.mutate({ token })
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per token
  }, [token, shouldVerify])

  const next =
    viewer?.status === 'signed-in' ? (
      <Link to="/app" className={TEXT_LINK_CLASS}>
        Go to your dashboard
      </Link>
    ) : (
      <Link to="/login" className={TEXT_LINK_CLASS}>
        Sign in
      </Link>
    )

  if (!token) {
    return (
      <AuthCard title="This link is incomplete" description="Open the link from your email again.">
        {next}
      </AuthCard>
    )
  }
  if (linkStatus === 'already_verified' && !verifyEmail.isSuccess) {
    return (
      <AuthCard title="Your email is already verified">
        <div className="flex flex-col gap-4">
          <Alert tone="success">This address is confirmed; there is nothing more to do with this link.</Alert>
          {next}
        </div>
      </AuthCard>
    )
  }
  if (linkStatus === 'used' || linkStatus === 'expired' || linkStatus === 'invalid') {
    const isSignedIn = viewer?.status === 'signed-in'
    return (
      <AuthCard
        title={linkStatus === 'expired' ? 'This link has expired' : linkStatus === 'used' ? 'This link was already used' : 'This link doesn’t work'}
        description={
          linkStatus === 'expired'
            ? `Verification links work for a day. ${isSignedIn ? 'Send yourself a new one from your dashboard.' : 'Sign in to send yourself a new one.'}`
            : `It may be incomplete, or a newer link replaced it. ${isSignedIn ? 'Send yourself a new one from your dashboard.' : 'Sign in to send yourself a new one.'}`
        }
      >
        {next}
      </AuthCard>
    )
  }
  if (verifyEmail.isSuccess) {
    return (
      <AuthCard title="Email verified">
        <div className="flex flex-col gap-4">
          <Alert tone="success">Thanks — your email address is confirmed.</Alert>
          {next}
        </div>
      </AuthCard>
    )
  }
  if (verifyEmail.isError) {
    return (
      <AuthCard title="We couldn’t verify your email">
        <div className="flex flex-col gap-4">
          <Alert>{describeFormError(verifyEmail.error).message}</Alert>
          {next}
        </div>
      </AuthCard>
    )
  }
  return <VerifyingCard />
}
