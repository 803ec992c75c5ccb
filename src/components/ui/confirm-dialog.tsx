/**
 * An "are you sure?" dialog (Radix Dialog: focus trapped, Escape closes, labelled for screen readers)
 * for destructive actions. `onConfirm` runs the action; if it throws, the catalog message shows
 * inside the dialog and it stays open; on success it closes.
 */
import * as Dialog from '@radix-ui/react-dialog'
import { useState, type ReactElement, type ReactNode } from 'react'
import { describeFormError } from '../../lib/form-errors'
import { Alert } from './alert'
import { Button } from './button'

export function ConfirmActionDialog({ trigger, open, onOpenChange, title, description, children, confirmLabel, confirmVariant = 'danger', isPending, onConfirm }: {
  /** The element that opens the dialog (a Button); omit it and pass `open` to open it from elsewhere (a select). */
  trigger?: ReactElement
  open?: boolean
  onOpenChange?: (open: boolean) => void
  title: ReactNode
  description: ReactNode
  /** What the action needs besides a click (a password field), shown under the description. */
  children?: ReactNode
  confirmLabel: string
  /** `danger` for what takes something away; `primary` for a change that is not destructive. */
  confirmVariant?: 'danger' | 'primary'
  isPending: boolean
  onConfirm: () => Promise<void>
}) {
  const [isOpenInternally, setIsOpenInternally] = useState(false)
  const isOpen = open ?? isOpenInternally
  const setIsOpen = (next: boolean) => {
    setIsOpenInternally(next)
    onOpenChange?.(next)
  }
  const [message, setMessage] = useState<string | null>(null)

  async function confirm() {
    setMessage(null)
    try {
      await onConfirm()
      setIsOpen(false)
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
      {trigger && <Dialog.Trigger asChild>{trigger}</Dialog.Trigger>}
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 z-40 w-[calc(100%-2rem)] max-w-sm -translate-x-1/2 -translate-y-1/2 rounded-xl bg-white p-6 text-left shadow-xl focus:outline-none">
          <Dialog.Title className="text-lg font-semibold text-slate-900">{title}</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600">{description}</Dialog.Description>
          {children && <div className="mt-4">{children}</div>}
          <Alert className="mt-4">{message}</Alert>
          <div className="mt-6 flex justify-end gap-2">
            <Dialog.Close asChild>
              <Button variant="secondary">Cancel</Button>
            </Dialog.Close>
            <Button variant={confirmVariant} onClick={confirm} isLoading={isPending}>
              {confirmLabel}
            </Button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  )
}
