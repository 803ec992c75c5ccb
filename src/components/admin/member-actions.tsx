/**
 * Admin console row controls: change a member's role, disable or re-enable them. Both are
 * sensitive (the server may answer REAUTH_REQUIRED; `withReauth` asks and retries). The controls
 * only offer what the server would allow — roles up to the admin's own, never on oneself — but the
 * server decides.
 */
import { toast } from 'sonner'
import appConfig from '../../../app.config'
import { describeRole } from '../../lib/auth-labels'
import { describeFormError } from '../../lib/form-errors'
import { roleRank } from '../../lib/roles'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { useReauth } from '../reauth-provider'
import { Button } from '../ui/button'

type OrganizationUser = RouterOutputs['admin']['users']['list'][number]

type MemberActionProps = { user: OrganizationUser; viewerRole: string; isSelf: boolean }

/** True when the viewer may manage this user at all (not oneself, nobody above oneself). */
function canManage({ user, viewerRole, isSelf }: MemberActionProps): boolean {
  return !isSelf && roleRank(user.role) <= roleRank(viewerRole)
}

/** A role picker limited to roles up to the viewer's own. */
export function MemberRoleSelect(props: MemberActionProps) {
  const { user, viewerRole } = props
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const setRole = trpc.admin.users.setRole.useMutation()
  if (!canManage(props)) return null
  const assignableRoles = appConfig.roles.filter((role) => roleRank(role) <= roleRank(viewerRole))

  async function changeRole(role: (typeof appConfig.roles)[number]) {
    try {
      await withReauth(() => setRole.mutateAsync({ userId: user.id, role }))
      toast.success(`${user.name} is now ${describeRole(role).toLowerCase()}.`)
      void utils.admin.users.list.invalidate()
      void utils.admin.audit.list.invalidate()
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  return (
    <label className="inline-flex items-center gap-2 text-sm">
      <span className="sr-only">Role of {user.name}</span>
      <select
        className="min-h-10 rounded-md border border-slate-300 bg-white px-2 text-sm focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
        value={user.role}
        disabled={setRole.isPending}
        onChange={(event) => void changeRole(event.target.value as (typeof appConfig.roles)[number])}
      >
        {assignableRoles.map((role) => (
          <option key={role} value={role}>
            {describeRole(role)}
          </option>
        ))}
      </select>
    </label>
  )
}

/** Disable (revokes every session) or re-enable a member. */
export function DisableMemberButton(props: MemberActionProps) {
  const { user } = props
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const setDisabled = trpc.admin.users.setDisabled.useMutation()
  if (!canManage(props)) return null

  async function toggle() {
    try {
      const { sessionsRevoked } = await withReauth(() => setDisabled.mutateAsync({ userId: user.id, isDisabled: !user.isDisabled }))
      toast.success(user.isDisabled ? `${user.name} can sign in again.` : `${user.name} is disabled; ${sessionsRevoked === 1 ? '1 session' : `${sessionsRevoked} sessions`} signed out.`)
      void utils.admin.users.list.invalidate()
      void utils.admin.audit.list.invalidate()
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  return (
    <Button variant={user.isDisabled ? 'secondary' : 'danger'} isLoading={setDisabled.isPending} onClick={() => void toggle()} aria-label={`${user.isDisabled ? 'Enable' : 'Disable'} ${user.name}`}>
      {user.isDisabled ? 'Enable' : 'Disable'}
    </Button>
  )
}
