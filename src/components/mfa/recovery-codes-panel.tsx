/**
 * Shows a fresh set of recovery codes, once: the server keeps only their hashes, so this is the
 * user's only chance to save them. Copy and download (.txt) are offered, and "continue" waits for
 * an explicit "I saved them".
 */
import { useId, useState } from 'react'
import { toast } from 'sonner'
import appConfig from '../../../app.config'
import { formatEmailForDisplay } from '../../lib/email-display'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'

/** The text put on the clipboard and in the downloaded file. */
function formatRecoveryCodesText(codes: readonly string[], accountEmail: string): string {
  return [
    `${appConfig.appName} recovery codes for ${formatEmailForDisplay(accountEmail)}`,
    `Generated ${new Date().toISOString().slice(0, 10)}. Each code works once; keep them somewhere safe.`,
    '',
    ...codes,
    '',
  ].join('\n')
}

/** Saves `text` as a file through a temporary object URL (nothing leaves the browser). */
function downloadTextFile(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }))
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  document.body.append(link)
  link.click()
  link.remove()
  // Revoke after the click has been handled, or some browsers cancel the download.
  setTimeout(() => URL.revokeObjectURL(url), 0)
}

export function RecoveryCodesPanel({
  codes,
  accountEmail,
  continueLabel = 'Continue',
  onContinue,
}: {
  codes: readonly string[]
  accountEmail: string
  continueLabel?: string
  onContinue: () => void | Promise<void>
}) {
  const checkboxId = useId()
  const [hasSaved, setHasSaved] = useState(false)
  const [isContinuing, setIsContinuing] = useState(false)
  const text = formatRecoveryCodesText(codes, accountEmail)

  async function copyCodes() {
    try {
      await navigator.clipboard.writeText(text)
      toast.success('Recovery codes copied.')
    } catch {
      toast.error('Could not copy. Select the codes and copy them by hand, or download them.')
    }
  }

  return (
    <div className="flex flex-col gap-4">
      <Alert tone="warning">
        Save these recovery codes now. Each one signs you in once if you lose your authenticator. They will not be shown again.
      </Alert>
      <ol
        aria-label="Recovery codes"
        className="grid grid-cols-1 gap-x-6 gap-y-2 rounded-lg border border-slate-200 bg-slate-50 p-4 font-mono text-sm text-slate-900 sm:grid-cols-2"
      >
        {codes.map((code) => (
          <li key={code} data-testid="recovery-code" className="select-all tracking-wider">
            {code}
          </li>
        ))}
      </ol>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={copyCodes}>
          Copy codes
        </Button>
        <Button variant="secondary" onClick={() => downloadTextFile(`${appConfig.appName.toLowerCase()}-recovery-codes.txt`, text)}>
          Download .txt
        </Button>
      </div>
      <div className="flex items-center gap-2">
        <input
          id={checkboxId}
          type="checkbox"
          className="size-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500"
          checked={hasSaved}
          onChange={(event) => setHasSaved(event.target.checked)}
        />
        <label htmlFor={checkboxId} className="text-sm text-slate-800">
          I have saved these codes somewhere safe
        </label>
      </div>
      <div>
        <Button
          disabled={!hasSaved}
          isLoading={isContinuing}
          onClick={async () => {
            setIsContinuing(true)
            try {
              await onContinue()
            } finally {
              setIsContinuing(false)
            }
          }}
        >
          {continueLabel}
        </Button>
      </div>
    </div>
  )
}
