/**
 * Admin console row controls: change a member's role, disable or re-enable them, sign out every
 * session of theirs. What is offered comes from the same policy the admin router enforces
 * (src/lib/member-permissions.ts), so the console never shows a control the server refuses; the
 * server still decides. Every destructive change asks to confirm first, like Reset MFA; the
 * sensitive ones may then need a re-authentication (`withReauth` asks and retries).
 *
 * Accessible names start with the visible label and add whom it acts on ("Disable Max Member"),
 * so speech-input users can say what they see (WCAG 2.5.3 Label in Name).
 */
import { useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { toast } from 'sonner'
import type appConfig from '../../../app.config'
import { organizationSummaryQueryOptions } from '../../functions/admin'
import { describeRole } from '../../lib/auth-labels'
import { formatEmailForDisplay } from '../../lib/email-display'
import { describeFormError } from '../../lib/form-errors'
import { canActOnMember, getAssignableRoles } from '../../lib/member-permissions'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { useReauth } from '../reauth-provider'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { ConfirmActionDialog } from '../ui/confirm-dialog'

export type OrganizationMember = RouterOutputs['admin']['users']['list'][number]
type Role = (typeof appConfig.roles)[number]

/** The admin acting in the console. */
export type ConsoleActor = { id: string; role: string }

type MemberActionProps = { actor: ConsoleActor; member: OrganizationMember }

/** "1 session" / "2 sessions". */
function sessionCount(count: number): string {
  return count === 1 ? '1 session' : `${count} sessions`
}

/**
 * Refreshes everything a change to a member affects: the table, the audit log, and the
 * organization summary's counts (members with two-factor, signed-in devices).
 */
export function useRefreshAfterMemberChange(): () => void {
  const utils = trpc.useUtils()
  const queryClient = useQueryClient()
  return () => {
    void utils.admin.users.list.invalidate()
    void utils.admin.audit.list.invalidate()
    void queryClient.invalidateQueries({ queryKey: organizationSummaryQueryOptions.queryKey })
  }
}

/** The member's role: a picker limited to assignable roles, or a badge when the actor may not change it. */
export function MemberRoleControl({ actor, member }: MemberActionProps) {
  const refresh = useRefreshAfterMemberChange()
  const { withReauth } = useReauth()
  const setRole = trpc.admin.users.setRole.useMutation()
  const [pendingRole, setPendingRole] = useState<Role | null>(null)
  if (!canActOnMember(actor, member, 'setRole')) return <Badge tone="accent">{describeRole(member.role)}</Badge>

  async function confirmRoleChange() {
    if (!pendingRole) return
    await withReauth(() => setRole.mutateAsync({ userId: member.id, role: pendingRole }))
    toast.success(`${member.name} is now ${describeRole(pendingRole).toLowerCase()}.`)
    setPendingRole(null)
    refresh()
  }

  return (
    <>
      <label className="inline-flex items-center gap-2 text-sm">
        <span className="sr-only">Role of {member.name}</span>
        <select
          className="min-h-10 rounded-md border border-slate-300 bg-white px-2 text-sm focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          value={pendingRole ?? member.role}
          disabled={setRole.isPending}
          onChange={(event) => {
            const role = event.target.value as Role
            if (role !== member.role) setPendingRole(role)
          }}
        >
          {getAssignableRoles(actor.role).map((role) => (
            <option key={role} value={role}>
              {describeRole(role)}
            </option>
          ))}
        </select>
      </label>
      <ConfirmActionDialog
        open={pendingRole !== null}
        onOpenChange={(open) => {
          if (!open) setPendingRole(null)
        }}
        title={`Make ${member.name} ${pendingRole ? describeRole(pendingRole).toLowerCase() : ''}?`}
        description={`${member.name} is ${describeRole(member.role).toLowerCase()} now. The new role applies to their very next request.`}
        confirmLabel="Change role"
        confirmVariant="primary"
        isPending={setRole.isPending}
        onConfirm={confirmRoleChange}
      />
    </>
  )
}

/** Disable (asks first; revokes every session) or re-enable a member. */
export function DisableMemberButton({ actor, member }: MemberActionProps) {
  const refresh = useRefreshAfterMemberChange()
  const { withReauth } = useReauth()
  const setDisabled = trpc.admin.users.setDisabled.useMutation()
  if (!canActOnMember(actor, member, 'setDisabled')) return null

  async function setIsDisabled(isDisabled: boolean) {
    const { sessionsRevoked } = await withReauth(() => setDisabled.mutateAsync({ userId: member.id, isDisabled }))
    toast.success(isDisabled ? `${member.name} is disabled; ${sessionCount(sessionsRevoked)} signed out.` : `${member.name} can sign in again.`)
    refresh()
  }

  if (member.isDisabled) {
    // Re-enabling takes nothing away from anyone: no confirmation.
    return (
      <Button
        variant="secondary"
        isLoading={setDisabled.isPending}
        aria-label={`Enable ${member.name}`}
        onClick={() => void setIsDisabled(false).catch((error: unknown) => toast.error(describeFormError(error).message))}
      >
        Enable
      </Button>
    )
  }
  return (
    <ConfirmActionDialog
      trigger={
        <Button variant="danger" aria-label={`Disable ${member.name}`}>
          Disable
        </Button>
      }
      title={`Disable ${member.name}?`}
      description={`${member.name} (${formatEmailForDisplay(member.email)}) is signed out everywhere at once and cannot sign in or reset their password until someone enables the account again.`}
      confirmLabel="Disable"
      isPending={setDisabled.isPending}
      onConfirm={() => setIsDisabled(true)}
    />
  )
}

/** Signs out every session of a member (asks first). On one's own row, the current session is kept. */
export function RevokeSessionsButton({ actor, member }: MemberActionProps) {
  const refresh = useRefreshAfterMemberChange()
  const revokeSessions = trpc.admin.users.revokeSessions.useMutation()
  if (!canActOnMember(actor, member, 'revokeSessions')) return null
  const isSelf = member.id === actor.id

  async function confirmRevoke() {
    const { revoked } = await revokeSessions.mutateAsync({ userId: member.id })
    toast.success(`${sessionCount(revoked)} of ${member.name} signed out${isSelf ? ' (this one kept)' : ''}.`)
    refresh()
  }

  return (
    <ConfirmActionDialog
      trigger={
        <Button variant="danger" aria-label={`Revoke sessions of ${member.name}`}>
          Revoke sessions
        </Button>
      }
      title={isSelf ? 'Sign out your other sessions?' : `Sign out every session of ${member.name}?`}
      description={
        isSelf
          ? 'Every other device signed in to your account is signed out. This one stays signed in.'
          : `${member.name} is signed out on every device at once and has to sign in again. Their account stays enabled.`
      }
      confirmLabel="Revoke sessions"
      isPending={revokeSessions.isPending}
      onConfirm={confirmRevoke}
    />
  )
}
