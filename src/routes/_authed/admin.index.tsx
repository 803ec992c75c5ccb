import { createFileRoute } from '@tanstack/react-router'
import { toast } from 'sonner'
import { AuditLogCard } from '../../components/admin/audit-log-card'
import { getOrganizationSummary } from '../../functions/admin'
import { DisableMemberButton, MemberRoleSelect } from '../../components/admin/member-actions'
import { LocalTime } from '../../components/local-time'
import { MfaPolicyCard } from '../../components/mfa/mfa-policy-card'
import { ResetMfaButton } from '../../components/mfa/reset-mfa-button'
import { PageHeader } from '../../components/page-header'
import { Alert } from '../../components/ui/alert'
import { Badge } from '../../components/ui/badge'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { Spinner } from '../../components/ui/spinner'
import { describeRole } from '../../lib/auth-labels'
import { roleRank } from '../../lib/roles'
import { describeFormError } from '../../lib/form-errors'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { useSignedInViewer } from '../../lib/use-viewer'

export const Route = createFileRoute('/_authed/admin/')({
  loader: async ({ context }) => {
    const [, summary] = await Promise.all([context.trpcUtils.admin.users.list.ensureData(), getOrganizationSummary()])
    return summary
  },
  head: () => ({ meta: [{ title: 'Admin · Gatehouse' }] }),
  component: AdminUsersPage,
})

type OrganizationUser = RouterOutputs['admin']['users']['list'][number]

function AdminUsersPage() {
  const viewer = useSignedInViewer()
  const summary = Route.useLoaderData()
  const users = trpc.admin.users.list.useQuery()
  const revokeSessions = trpc.admin.users.revokeSessions.useMutation()
  const canManageRole = (role: string) => roleRank(role) <= roleRank(viewer.user.role)

  async function revokeFor(user: OrganizationUser) {
    try {
      const { revoked } = await revokeSessions.mutateAsync({ userId: user.id })
      const isSelf = user.id === viewer.user.id
      toast.success(`${revoked === 1 ? '1 session' : `${revoked} sessions`} of ${user.name} signed out${isSelf ? ' (this one kept)' : ''}.`)
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  return (
    <div className="flex flex-col gap-6">
      <PageHeader
        title="Admin console"
        description={
          viewer.user.organization ? (
            <span data-testid="organization-summary">
              {viewer.user.organization.name}: {summary.memberCount} {summary.memberCount === 1 ? 'person' : 'people'}, {summary.mfaEnabledCount} with two-factor
              authentication, {summary.activeSessionCount} signed-in {summary.activeSessionCount === 1 ? 'device' : 'devices'}.
            </span>
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
              <table className="w-full min-w-[36rem] text-left text-sm">
                <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                      User
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Role
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Status
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
                        <div className="font-medium text-slate-900">{user.name}</div>
                        <div className="text-slate-500">{user.email}</div>
                      </td>
                      <td className="px-3 py-3">
                        {user.id === viewer.user.id || !canManageRole(user.role) ? (
                          <Badge tone="accent">{describeRole(user.role)}</Badge>
                        ) : (
                          <MemberRoleSelect user={user} viewerRole={viewer.user.role} isSelf={false} />
                        )}
                      </td>
                      <td className="px-3 py-3">
                        <div className="flex flex-wrap gap-1">
                          {user.isDisabled ? <Badge tone="danger">Disabled</Badge> : <Badge tone="success">Active</Badge>}
                          {user.isMfaEnabled && <Badge>2FA</Badge>}
                        </div>
                      </td>
                      <td className="px-3 py-3 text-slate-600">
                        <LocalTime iso={user.createdAt} />
                      </td>
                      <td className="flex flex-wrap justify-end gap-2 px-5 py-3 text-right sm:px-6">
                        <ResetMfaButton user={user} />
                        <DisableMemberButton user={user} viewerRole={viewer.user.role} isSelf={user.id === viewer.user.id} />
                        <Button variant="danger" onClick={() => revokeFor(user)} disabled={revokeSessions.isPending} aria-label={`Sign out every session of ${user.name}`}>
                          Revoke sessions
                        </Button>
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
      <AuditLogCard peopleById={new Map((users.data ?? []).map((user) => [user.id, user.name]))} />
    </div>
  )
}
