/**
 * Admin console row action: reset a member's two-factor authentication (the lost-phone path).
 * A sensitive action: the server may answer REAUTH_REQUIRED, and `withReauth` handles it.
 * Rendered only for users who have MFA; the server decides who may reset whom.
 */
import { toast } from 'sonner'
import { trpc } from '../../lib/trpc'
import { useReauth } from '../reauth-provider'
import { Button } from '../ui/button'
import { ConfirmActionDialog } from '../ui/confirm-dialog'

export function ResetMfaButton({ user }: { user: { id: string; name: string; isMfaEnabled: boolean } }) {
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const resetMfa = trpc.admin.users.resetMfa.useMutation()
  if (!user.isMfaEnabled) return null

  async function confirmReset() {
    const { sessionsRevoked } = await withReauth(() => resetMfa.mutateAsync({ userId: user.id }))
    toast.success(`Two-factor authentication of ${user.name} was reset; ${sessionsRevoked === 1 ? '1 session' : `${sessionsRevoked} sessions`} signed out.`)
    void utils.admin.users.list.invalidate()
    void utils.admin.audit.list.invalidate()
  }

  return (
    <ConfirmActionDialog
      trigger={
        <Button variant="secondary" aria-label={`Reset two-factor authentication of ${user.name}`}>
          Reset MFA
        </Button>
      }
      title="Reset two-factor authentication?"
      description={`${user.name}’s authenticator and recovery codes stop working and every session of theirs is signed out. Their next sign-in needs only the password (then a new authenticator, if your organization requires one), so first make sure it is really them asking.`}
      confirmLabel="Reset"
      isPending={resetMfa.isPending}
      onConfirm={confirmReset}
    />
  )
}
