/**
 * Admin console row action: reset a member's two-factor authentication (the lost-phone path).
 * A sensitive action: the server may answer REAUTH_REQUIRED, and `withReauth` handles it.
 * Rendered only for members who have MFA and whom the member-permissions policy lets the actor
 * reset (never oneself, never a higher role), so the console offers nothing the server refuses.
 */
import { toast } from 'sonner'
import { canActOnMember } from '../../lib/member-permissions'
import { trpc } from '../../lib/trpc'
import { useRefreshAfterMemberChange, type ConsoleActor } from '../admin/member-actions'
import { useReauth } from '../reauth-provider'
import { Button } from '../ui/button'
import { ConfirmActionDialog } from '../ui/confirm-dialog'

/** "Reset MFA" on a member's row, behind a confirmation; nothing when the policy says no. */
export function ResetMfaButton({ actor, member }: { actor: ConsoleActor; member: { id: string; name: string; role: string; isMfaEnabled: boolean } }) {
  const refresh = useRefreshAfterMemberChange()
  const { withReauth } = useReauth()
  const resetMfa = trpc.admin.users.resetMfa.useMutation()
  if (!member.isMfaEnabled || !canActOnMember(actor, member, 'resetMfa')) return null

  async function confirmReset() {
    const { sessionsRevoked } = await withReauth(() => resetMfa.mutateAsync({ userId: member.id }))
    toast.success(`Two-factor authentication of ${member.name} was reset; ${sessionsRevoked === 1 ? '1 session' : `${sessionsRevoked} sessions`} signed out.`)
    refresh()
  }

  return (
    <ConfirmActionDialog
      trigger={
        // The accessible name starts with the visible label (WCAG 2.5.3 Label in Name).
        <Button variant="secondary" aria-label={`Reset MFA of ${member.name}`}>
          Reset MFA
        </Button>
      }
      title="Reset two-factor authentication?"
      description={`${member.name}’s authenticator and recovery codes stop working and every session of theirs is signed out. Their next sign-in needs only the password (then a new authenticator, if your organization requires one or their password is too short to be used alone), so first make sure it is really them asking.`}
      confirmLabel="Reset"
      isPending={resetMfa.isPending}
      onConfirm={confirmReset}
    />
  )
}
