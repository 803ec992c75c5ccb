/**
 * Admin console row action: reset a member's two-factor authentication (the lost-phone path).
 * A sensitive action: the server may answer REAUTH_REQUIRED, and `withReauth` handles it.
 * Rendered only for users who have MFA; the server decides who may reset whom.
 */
import * as Dialog from '@radix-ui/react-dialog'
import { useState } from 'react'
import { toast } from 'sonner'
import { describeFormError } from '../../lib/form-errors'
import { trpc } from '../../lib/trpc'
import { useReauth } from '../reauth-provider'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'

export function ResetMfaButton({ user }: { user: { id: string; name: string; isMfaEnabled: boolean } }) {
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const resetMfa = trpc.admin.users.resetMfa.useMutation()
  const [isOpen, setIsOpen] = useState(false)
  const [message, setMessage] = useState<string | null>(null)
  if (!user.isMfaEnabled) return null

  async function confirmReset() {
    setMessage(null)
    try {
      const { sessionsRevoked } = await withReauth(() => resetMfa.mutateAsync({ userId: user.id }))
      setIsOpen(false)
      toast.success(`Two-factor authentication of ${user.name} was reset; ${sessionsRevoked === 1 ? '1 session' : `${sessionsRevoked} sessions`} signed out.`)
      void utils.admin.users.list.invalidate()
    } catch (error) {
      setMessage(describeFormError(error).message)
    }
  }

  return (
    <Dialog.Root
      open={isOpen}
      onOpenChange={(open) => {
        setIsOpen(open)
        setMessage(null)
      }}
    >
      <Dialog.Trigger asChild>
        <Button variant="secondary" aria-label={`Reset two-factor authentication of ${user.name}`}>
          Reset MFA
        </Button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 z-40 w-[calc(100%-2rem)] max-w-sm -translate-x-1/2 -translate-y-1/2 rounded-xl bg-white p-6 text-left shadow-xl focus:outline-none">
          <Dialog.Title className="text-lg font-semibold text-slate-900">Reset two-factor authentication?</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600">
            {user.name}’s authenticator and recovery codes stop working and every session of theirs is signed out. Their next sign-in needs only the password (then a new
            authenticator, if your organization requires one), so first make sure it is really them asking.
          </Dialog.Description>
          <Alert className="mt-4">{message}</Alert>
          <div className="mt-6 flex justify-end gap-2">
            <Dialog.Close asChild>
              <Button variant="secondary">Cancel</Button>
            </Dialog.Close>
            <Button variant="danger" onClick={confirmReset} isLoading={resetMfa.isPending}>
              Reset
            </Button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  )
}
