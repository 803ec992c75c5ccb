import { Link, createFileRoute } from '@tanstack/react-router'
import type { ReactNode } from 'react'
import { toast } from 'sonner'
import { LocalTime } from '../../components/local-time'
import { PageHeader } from '../../components/page-header'
import { RequireRole } from '../../components/require-role'
import { Alert } from '../../components/ui/alert'
import { Badge } from '../../components/ui/badge'
import { Button, buttonClassName } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { getDashboardSummary } from '../../functions/dashboard'
import { describeAuthMethod, describeRole } from '../../lib/auth-labels'
import { describeFormError } from '../../lib/form-errors'
import { formatEmailForDisplay } from '../../lib/email-display'
import { isRole, type Role } from '../../lib/roles'
import { trpc } from '../../lib/trpc'
import { useSignedInViewer } from '../../lib/use-viewer'

/** `?notice=role-required&role=<role>`: where a role-only page sends someone without that role. */
type DashboardSearch = { notice?: 'role-required'; role?: Role }

function validateDashboardSearch(search: Record<string, unknown>): DashboardSearch {
  if (search.notice !== 'role-required') return {}
  return typeof search.role === 'string' && isRole(search.role) ? { notice: 'role-required', role: search.role } : { notice: 'role-required' }
}

export const Route = createFileRoute('/_authed/app')({
  validateSearch: validateDashboardSearch,
  head: () => ({ meta: [{ title: 'Dashboard · Gatehouse' }] }),
  // A guarded server function (SPEC §3: server functions are guarded like procedures). During SSR
  // it runs in-process; on client navigation it is an RPC that the same middleware checks.
  loader: () => getDashboardSummary(),
  component: DashboardPage,
})

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-0.5 sm:flex-row sm:justify-between sm:gap-4">
      <dt className="text-sm text-slate-500">{label}</dt>
      <dd className="text-sm font-medium text-slate-900 sm:text-right">{children}</dd>
    </div>
  )
}

function DashboardPage() {
  const { user, session } = useSignedInViewer()
  const email = formatEmailForDisplay(user.email)
  const { notice, role: requiredRole } = Route.useSearch()
  const summary = Route.useLoaderData()
  const resend = trpc.auth.resendVerificationEmail.useMutation({
    onSuccess: () => toast.success(`We sent a new link to ${email}.`),
    onError: (error) => toast.error(describeFormError(error).message),
  })

  return (
    <div className="flex flex-col gap-6">
      <PageHeader title={<span data-testid="dashboard-greeting">Welcome, {user.name}</span>} description={email} />

      <Alert tone="warning">
        {notice === 'role-required' &&
          `That page needs ${requiredRole ? `the ${describeRole(requiredRole)} role` : 'another role'}. Ask an owner of your organization if you need access.`}
      </Alert>

      {!user.isEmailVerified && (
        <div className="flex flex-wrap items-center justify-between gap-3 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900" role="status">
          <span>Please confirm your email address: we sent a link to {email}.</span>
          <Button variant="secondary" isLoading={resend.isPending} onClick={() => resend.mutate()}>
            Resend link
          </Button>
        </div>
      )}

      <div className="grid gap-6 md:grid-cols-2">
        <Card title="Your account">
          <dl className="flex flex-col gap-3">
            <Detail label="Organization">{user.organization ? user.organization.name : <span className="font-normal text-slate-500">None</span>}</Detail>
            <Detail label="Role">
              <Badge tone="accent">{describeRole(user.role)}</Badge>
            </Detail>
            <Detail label="Email">{user.isEmailVerified ? <Badge tone="success">Verified</Badge> : <Badge tone="warning">Not verified</Badge>}</Detail>
            <Detail label="Two-factor authentication">{user.isMfaEnabled ? <Badge tone="success">On</Badge> : <Badge>Off</Badge>}</Detail>
            <Detail label="Signed-in devices">
              <span data-testid="active-session-count">{summary.activeSessionCount}</span>
            </Detail>
          </dl>
        </Card>

        <Card title="This session">
          <dl className="flex flex-col gap-3" data-testid="session-details">
            <Detail label="Signed in with">{describeAuthMethod(session.authMethod)}</Detail>
            <Detail label="Signed in at">
              <LocalTime iso={session.createdAt} />
            </Detail>
            <Detail label="Second factor">{session.mfaSatisfiedAt ? <LocalTime iso={session.mfaSatisfiedAt} /> : <span className="font-normal text-slate-500">Not used</span>}</Detail>
            <Detail label="Last confirmed it was you">
              <LocalTime iso={session.reauthenticatedAt} />
            </Detail>
          </dl>
        </Card>
      </div>

      <div className="flex flex-wrap gap-3">
        <Link to="/settings/security" className={buttonClassName('secondary')}>
          Security settings
        </Link>
        <RequireRole role="admin">
          <Link to="/admin" className={buttonClassName('secondary')}>
            Admin console
          </Link>
        </RequireRole>
      </div>
    </div>
  )
}
