import { Link, createFileRoute } from '@tanstack/react-router'
import { useEffect, useRef } from 'react'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { Alert } from '../components/ui/alert'
import { Spinner } from '../components/ui/spinner'
import { describeFormError } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useViewer } from '../lib/use-viewer'

export const Route = createFileRoute('/verify-email')({
  validateSearch: (search: Record<string, unknown>): { token?: string } => (typeof search.token === 'string' ? { token: search.token } : {}),
  head: () => ({ meta: [{ title: 'Verify your email · Gatehouse' }] }),
  component: VerifyEmailPage,
})

function VerifyEmailPage() {
  const { token } = Route.useSearch()
  const viewer = useViewer()
  const utils = trpc.useUtils()
  const verifyEmail = trpc.auth.verifyEmail.useMutation({
    onSuccess: () => utils.auth.me.invalidate(),
  })
  const hasStartedRef = useRef(false)

  // Verified from the browser after load, never during SSR: a GET must not consume a single-use token.
  useEffect(() => {
    if (!token || hasStartedRef.current) return
    hasStartedRef.current = true
    verifyEmail.mutate({ token })
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per token
  }, [token])

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
  return (
    <AuthCard title="Verifying your email">
      <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
        <Spinner /> One moment…
      </p>
    </AuthCard>
  )
}
