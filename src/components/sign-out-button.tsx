/** Ends the session, then lets auth-sync move this tab (and every other tab) to the signed-out UI. */
import { toast } from 'sonner'
import { trpc } from '../lib/trpc'
import { useAuthSync } from '../lib/use-auth-sync'
import { Button, type ButtonVariant } from './ui/button'

/** "Sign out": ends the server session, then updates every tab. */
export function SignOutButton({ variant = 'secondary', className = '' }: { variant?: ButtonVariant; className?: string }) {
  const authSync = useAuthSync()
  const signOut = trpc.auth.signOut.useMutation()
  return (
    <Button
      variant={variant}
      className={className}
      isLoading={signOut.isPending}
      onClick={async () => {
        try {
          await signOut.mutateAsync()
        } catch {
          toast.error('Could not sign out. Check your connection and try again.')
          return
        }
        await authSync.syncAfterLocalChange('signed-out')
      }}
    >
      Sign out
    </Button>
  )
}
