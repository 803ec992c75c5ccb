/**
 * Enrolling an authenticator app (SPEC §5), used by the forced enrollment page and by the
 * security settings: start → scan the QR code (or type the key) → prove one code → save the
 * recovery codes, shown once.
 *
 * The QR code is an SVG the server renders with the `qrcode` package; it is shown through a
 * `data:` URL in an <img>, so the markup is never injected into the page (no HTML sink, and an
 * image cannot run script even if the SVG were hostile).
 */
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { toast } from 'sonner'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../../lib/form-errors'
import { formatEmailForDisplay } from '../../lib/email-display'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { useReauth } from '../reauth-provider'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'
import { Spinner } from '../ui/spinner'
import { RecoveryCodesPanel } from './recovery-codes-panel'
import { cleanTotpInput, TotpCodeField, toTotpCode } from './totp-code-field'

type Enrollment = RouterOutputs['mfa']['beginEnrollment']

type Step = { kind: 'start' } | { kind: 'scan'; enrollment: Enrollment } | { kind: 'codes'; recoveryCodes: string[] }

/** "JBSW Y3DP EHPK 3PXP …": groups of four are easier to type and to compare. */
export function groupManualKey(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim()
}

function toSvgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
}

export function TotpEnrollment({
  accountEmail,
  isReEnrollment = false,
  startLabel = 'Set up authenticator app',
  startsImmediately = false,
  onConfirmed,
  onComplete,
  onCancel,
}: {
  accountEmail: string
  isReEnrollment?: boolean
  startLabel?: string
  /**
   * Ask for the QR code at once (the click that opened this already said "set up"); the start
   * button then only appears again to retry after an error.
   */
  startsImmediately?: boolean
  /** The factor is active (the session was rotated server-side); recovery codes are on screen. */
  onConfirmed?: () => void
  /** The user saved the recovery codes and wants to move on. */
  onComplete: () => void | Promise<void>
  onCancel?: () => void
}) {
  const { withReauth } = useReauth()
  const beginEnrollment = trpc.mfa.beginEnrollment.useMutation()
  const confirmEnrollment = trpc.mfa.confirmEnrollment.useMutation()
  const [step, setStep] = useState<Step>({ kind: 'start' })
  const [code, setCode] = useState('')
  const [formError, setFormError] = useState<FormError>(NO_FORM_ERROR)
  const codeInputRef = useRef<HTMLInputElement>(null)
  const hasAutoStartedRef = useRef(false)

  useEffect(() => {
    if (!startsImmediately || hasAutoStartedRef.current) return
    hasAutoStartedRef.current = true
    void start()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, on mount
  }, [])

  async function start() {
    setFormError(NO_FORM_ERROR)
    try {
      // Binding a factor is sensitive: after REAUTH_REQUIRED the dialog confirms it is the user.
      const enrollment = await withReauth(() => beginEnrollment.mutateAsync())
      setCode('')
      setStep({ kind: 'scan', enrollment })
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  async function confirm(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      const { recoveryCodes } = await confirmEnrollment.mutateAsync({ code: toTotpCode(code) })
      setStep({ kind: 'codes', recoveryCodes })
      onConfirmed?.()
    } catch (error) {
      setFormError(describeFormError(error))
      // Clicking "Verify" moved focus to the button, which is disabled while the code is checked:
      // bring it back to the code, selected, so the next attempt is typed straight away.
      codeInputRef.current?.focus()
      codeInputRef.current?.select()
    }
  }

  if (step.kind === 'start' && startsImmediately && (beginEnrollment.isPending || !formError.message)) {
    return (
      <div className="flex flex-col gap-4">
        <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
          <Spinner /> Preparing your QR code…
        </p>
        {onCancel && (
          <div>
            <Button variant="secondary" onClick={onCancel}>
              Cancel
            </Button>
          </div>
        )}
      </div>
    )
  }

  if (step.kind === 'start') {
    return (
      <div className="flex flex-col gap-4">
        <Alert>{formError.message}</Alert>
        {isReEnrollment && (
          <p className="text-sm text-slate-600">Your current authenticator keeps working until the new one is confirmed. Confirming signs out your other sessions.</p>
        )}
        <div className="flex flex-wrap gap-2">
          <Button onClick={start} isLoading={beginEnrollment.isPending}>
            {startLabel}
          </Button>
          {onCancel && (
            <Button variant="secondary" onClick={onCancel}>
              Cancel
            </Button>
          )}
        </div>
      </div>
    )
  }

  if (step.kind === 'codes') {
    return (
      <div className="flex flex-col gap-4">
        <Alert tone="success">Two-factor authentication is on. From now on, signing in asks for a code from your app.</Alert>
        <RecoveryCodesPanel codes={step.recoveryCodes} accountEmail={accountEmail} onContinue={onComplete} />
      </div>
    )
  }

  const { enrollment } = step
  return (
    <div className="flex flex-col gap-6">
      {isReEnrollment && startsImmediately && (
        <p className="text-sm text-slate-600">Your current authenticator keeps working until the new one is confirmed. Confirming signs out your other sessions.</p>
      )}
      <ol className="flex flex-col gap-6">
        <li className="flex flex-col gap-3">
          <h3 className="text-sm font-semibold text-slate-900">1. Scan this QR code with your authenticator app</h3>
          <p className="text-sm text-slate-600">Any app that supports time-based codes works: Google Authenticator, Microsoft Authenticator, 1Password, Bitwarden, Authy…</p>
          <img
            src={toSvgDataUrl(enrollment.qrCode)}
            alt={`QR code that adds ${formatEmailForDisplay(accountEmail)} to an authenticator app`}
            width={192}
            height={192}
            className="size-48 rounded-lg border border-slate-200 bg-white p-1"
            data-testid="totp-qr-code"
          />
          <ManualKey secret={enrollment.secret} />
        </li>
        <li className="flex flex-col gap-3">
          <h3 className="text-sm font-semibold text-slate-900">2. Enter the 6-digit code the app shows</h3>
          <form method="post" className="flex flex-col gap-4" onSubmit={confirm} noValidate>
            <Alert>{formError.fields.code ? null : formError.message}</Alert>
            <TotpCodeField
              ref={codeInputRef}
              required
              autoFocus
              value={code}
              onChange={(event) => setCode(cleanTotpInput(event.target.value))}
              error={formError.fields.code}
            />
            <div className="flex flex-wrap gap-2">
              <Button type="submit" isLoading={confirmEnrollment.isPending} disabled={toTotpCode(code).length !== 6}>
                Verify and turn on
              </Button>
              {onCancel && (
                <Button variant="secondary" onClick={onCancel}>
                  Cancel
                </Button>
              )}
            </div>
          </form>
        </li>
      </ol>
    </div>
  )
}

/** The base32 key for typing into an app by hand, grouped, with a copy button. */
function ManualKey({ secret }: { secret: string }) {
  async function copyKey() {
    try {
      await navigator.clipboard.writeText(secret)
      toast.success('Key copied.')
    } catch {
      toast.error('Could not copy. Select the key and copy it by hand.')
    }
  }
  return (
    <div className="rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm">
      <p className="font-medium text-slate-800">Can’t scan? Enter the key instead</p>
      <div className="mt-2 flex flex-col gap-2">
        <p className="text-slate-600">
          Choose “enter a setup key”, type this key, and pick <span className="font-medium">time-based</span> (6 digits, every 30 seconds).
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <code data-testid="totp-manual-key" aria-label="Setup key" className="select-all rounded-md bg-white px-2 py-1 font-mono text-base tracking-wider text-slate-900 ring-1 ring-slate-200">
            {groupManualKey(secret)}
          </code>
          <Button variant="secondary" onClick={copyKey}>
            Copy key
          </Button>
        </div>
      </div>
    </div>
  )
}
