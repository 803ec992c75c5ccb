/**
 * A read-only value with a "Copy" button (a TXT record, a redirect URI). The value stays selectable
 * for browsers without clipboard access; the button's accessible name starts with its visible
 * label and says what it copies ("Copy record value").
 */
import { useId, useState } from 'react'
import { toast } from 'sonner'
import { Button } from './button'

export function CopyField({ label, value }: { label: string; value: string }) {
  const id = useId()
  const [isCopied, setIsCopied] = useState(false)

  async function copy() {
    try {
      await navigator.clipboard.writeText(value)
      setIsCopied(true)
      window.setTimeout(() => setIsCopied(false), 2000)
    } catch {
      toast.error('Your browser did not allow copying. Select the text and copy it instead.')
    }
  }

  return (
    <div className="flex flex-col gap-1.5">
      <label htmlFor={id} className="text-xs font-medium uppercase tracking-wide text-slate-500">
        {label}
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          readOnly
          value={value}
          onFocus={(event) => event.currentTarget.select()}
          className="block w-full min-w-0 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-sm text-slate-900 focus:outline-none focus:ring-2 focus:ring-indigo-500"
        />
        <Button variant="secondary" aria-label={`Copy ${label.charAt(0).toLowerCase()}${label.slice(1)}`} onClick={() => void copy()}>
          {isCopied ? 'Copied' : 'Copy'}
        </Button>
      </div>
    </div>
  )
}
