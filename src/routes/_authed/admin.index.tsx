import { useSuspenseQuery } from '@tanstack/react-query'
import { createFileRoute } from '@tanstack/react-router'
import { AuditLogCard } from '../../components/admin/audit-log-card'
import { DisableMemberButton, MemberRoleControl, RevokeSessionsButton, type OrganizationMember } from '../../components/admin/member-actions'
import { LocalTime } from '../../components/local-time'
import { MfaPolicyCard } from '../../components/mfa/mfa-policy-card'
import { ResetMfaButton } from '../../components/mfa/reset-mfa-button'
import { PageHeader } from '../../components/page-header'
import { Alert } from '../../components/ui/alert'
import { Badge } from '../../components/ui/badge'
import { Card } from '../../components/ui/card'
import { Spinner } from '../../components/ui/spinner'
import { organizationSummaryQueryOptions } from '../../functions/admin'
import { formatEmailForDisplay } from '../../lib/email-display'
import { describeFormError } from '../../lib/form-errors'
import { trpc } from '../../lib/trpc'
import { useSignedInViewer } from '../../lib/use-viewer'

export const Route = createFileRoute('/_authed/admin/')({
  // Both in the first HTML; the summary is a query (not loader data) so actions can invalidate it.
  loader: ({ context }) =>
    Promise.all([context.trpcUtils.admin.users.list.ensureData(), context.queryClient.ensureQueryData(organizationSummaryQueryOptions)]),
  head: () => ({ meta: [{ title: 'Admin · Gatehouse' }] }),
  component: AdminUsersPage,
})

/** "Initech: 3 people, 1 with two-factor authentication, 4 signed-in devices." */
function OrganizationSummary({ organizationName }: { organizationName: string }) {
  const { data: summary } = useSuspenseQuery(organizationSummaryQueryOptions)
  return (
    <span data-testid="organization-summary">
      {organizationName}: {summary.memberCount} {summary.memberCount === 1 ? 'person' : 'people'}, {summary.mfaEnabledCount} with two-factor authentication,{' '}
      {summary.activeSessionCount} signed-in {summary.activeSessionCount === 1 ? 'device' : 'devices'}.
    </span>
  )
}

/** How a member signs in: "Password", "Single sign-on" (with the last SSO sign-in), or both for a linked account. */
function SignInMethods({ member }: { member: OrganizationMember }) {
  return (
    <div className="mt-1 text-xs text-slate-500" data-testid="sign-in-methods">
      <span className="block">
        Signs in with{' '}
        {member.signInMethods.length === 0
          ? 'nothing yet'
          : member.signInMethods.map((method) => (method === 'password' ? 'password' : 'single sign-on')).join(' or ')}
      </span>
      {member.lastSsoSignInAt && (
        <span className="block whitespace-nowrap">
          Last SSO sign-in <LocalTime iso={member.lastSsoSignInAt} />
        </span>
      )}
    </div>
  )
}

function AdminUsersPage() {
  const viewer = useSignedInViewer()
  const actor = { id: viewer.user.id, role: viewer.user.role }
  const users = trpc.admin.users.list.useQuery()

  return (
    <div className="flex flex-col gap-6">
      <PageHeader
        title="Admin console"
        description={
          viewer.user.organization ? (
            <OrganizationSummary organizationName={viewer.user.organization.name} />
          ) : (
            'You are not part of an organization.'
          )
        }
      />
      <Card title="Users" description="Signing out a user ends every session they have, on every device.">
        {users.data ? (
          users.data.length === 0 ? (
            <p className="text-sm text-slate-600">No users in this organization yet.</p>
          ) : (
            <div className="relative -mx-5 overflow-x-auto sm:-mx-6">
              <table className="w-full min-w-[48rem] text-left text-sm">
                <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                      User
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Role
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Status and sign-in
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Joined
                    </th>
                    <th scope="col" className="px-5 py-2 text-right font-medium sm:px-6">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {users.data.map((user) => (
                    <tr key={user.id} data-testid="admin-user-row">
                      <td className="px-5 py-3 sm:px-6">
                        <div className="font-medium text-slate-900">
                          {user.name}
                          {user.id === viewer.user.id && <span className="font-normal text-slate-500"> (you)</span>}
                        </div>
                        <div className="text-slate-500">{formatEmailForDisplay(user.email)}</div>
                      </td>
                      <td className="px-3 py-3">
                        <MemberRoleControl actor={actor} member={user} />
                      </td>
                      <td className="px-3 py-3">
                        <div className="flex flex-wrap gap-1">
                          {user.isDisabled ? <Badge tone="danger">Disabled</Badge> : <Badge tone="success">Active</Badge>}
                          {user.isMfaEnabled && <Badge>2FA</Badge>}
                        </div>
                        <SignInMethods member={user} />
                      </td>
                      <td className="whitespace-nowrap px-3 py-3 text-slate-600">
                        <LocalTime iso={user.createdAt} />
                      </td>
                      <td className="px-5 py-3 sm:px-6">
                        {/* One line per row; on a narrow screen the table scrolls sideways instead. */}
                        <div className="flex justify-end gap-2 whitespace-nowrap">
                          <ResetMfaButton actor={actor} member={user} />
                          <DisableMemberButton actor={actor} member={user} />
                          <RevokeSessionsButton actor={actor} member={user} />
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : users.isError ? (
          <Alert>{describeFormError(users.error).message}</Alert>
        ) : (
          <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
            <Spinner /> Loading users…
          </p>
        )}
      </Card>
      <MfaPolicyCard />
      <AuditLogCard people={users.data ?? []} />
    </div>
  )
}
