/**
 * Step-up re-authentication for sensitive actions (SPEC §3). Wrap a call in `withReauth`: when the
 * server answers REAUTH_REQUIRED, a dialog asks for the password (or an authenticator code for MFA
 * users), `auth.reauthenticate` stamps the session, and the original call is retried once. When the
 * action removes a second factor (REAUTH_SECOND_FACTOR_REQUIRED) the dialog asks for the code only,
 * and says why.
 *
 *   const { withReauth } = useReauth()
 *   await withReauth(() => changePassword.mutateAsync(input))
 */
import * as Dialog from '@radix-ui/react-dialog'
import { createContext, useCallback, useContext, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { getAppErrorCode } from '../lib/app-errors'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useViewer } from '../lib/use-viewer'
import { Alert } from './ui/alert'
import { Button } from './ui/button'
import { TextField } from './ui/text-field'

type ReauthContextValue = {
  /** Runs `call`; on REAUTH_REQUIRED (or its second-factor variant) asks the user to confirm it is them and runs it once more. */
  withReauth: <T>(call: () => Promise<T>) => Promise<T>
}

const ReauthContext = createContext<ReauthContextValue | null>(null)

/** The re-auth helpers; needs `<ReauthProvider>` above (the root layout has one). */
export function useReauth(): ReauthContextValue {
  const value = useContext(ReauthContext)
  if (!value) throw new Error('useReauth() needs <ReauthProvider> above it')
  return value
}

type PendingReauth = { promise: Promise<boolean>; resolve: (isConfirmed: boolean) => void }

/** What the dialog must ask for: any factor, or the second factor because one is being removed. */
type ReauthDemand = 'any' | 'second-factor'

const REAUTH_DEMANDS: Partial<Record<string, ReauthDemand>> = { REAUTH_REQUIRED: 'any', REAUTH_SECOND_FACTOR_REQUIRED: 'second-factor' }

/** Holds the one re-auth dialog of the page; concurrent requests share one prompt. */
export function ReauthProvider({ children }: { children: ReactNode }) {
  const [demand, setDemand] = useState<ReauthDemand | null>(null)
  const pendingRef = useRef<PendingReauth | null>(null)

  const requestReauth = useCallback((nextDemand: ReauthDemand): Promise<boolean> => {
    if (pendingRef.current) return pendingRef.current.promise
    let resolve: (isConfirmed: boolean) => void = () => {}
    const promise = new Promise<boolean>((done) => {
      resolve = done
    })
    pendingRef.current = { promise, resolve }
    setDemand(nextDemand)
    return promise
  }, [])

  const finish = useCallback((isConfirmed: boolean) => {
    const pending = pendingRef.current
    pendingRef.current = null
    setDemand(null)
    pending?.resolve(isConfirmed)
  }, [])

  const withReauth = useCallback(
    async <T,>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call()
      } catch (error) {
        const demand = REAUTH_DEMANDS[getAppErrorCode(error) ?? '']
        if (!demand) throw error
        // Cancelled: the caller sees the original error ("Confirm it is you to continue.").
        if (!(await requestReauth(demand))) throw error
        return call()
      }
    },
    [requestReauth],
  )

  const value = useMemo(() => ({ withReauth }), [withReauth])
  return (
    <ReauthContext.Provider value={value}>
      {children}
      <ReauthDialog demand={demand} onFinish={finish} />
    </ReauthContext.Provider>
  )
}

type Factor = 'password' | 'code'

function ReauthDialog({ demand, onFinish }: { demand: ReauthDemand | null; onFinish: (isConfirmed: boolean) => void }) {
  const viewer = useViewer()
  const isOpen = demand !== null
  const isCodeRequired = demand === 'second-factor'
  const canUseCode = viewer !== null && 'user' in viewer && viewer.user.isMfaEnabled
  const [chosenFactor, setFactor] = useState<Factor>('password')
  const factor: Factor = isCodeRequired ? 'code' : chosenFactor
  const [secret, setSecret] = useState('')
  const [formError, setFormError] = useState<FormError>(NO_FORM_ERROR)
  const reauthenticate = trpc.auth.reauthenticate.useMutation()

  function resetForm(nextFactor: Factor) {
    setFactor(nextFactor)
    setSecret('')
    setFormError(NO_FORM_ERROR)
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await reauthenticate.mutateAsync(factor === 'password' ? { password: secret } : { code: secret.trim() })
      resetForm('password')
      onFinish(true)
    } catch (error) {
      // The session itself is gone: auth-sync is already taking the user to the login page.
      if (getAppErrorCode(error) === 'UNAUTHENTICATED') {
        resetForm('password')
        onFinish(false)
        return
      }
      const described = describeFormError(error)
      // The sign-in wording ("Email or password…") would confuse here: only the password was asked.
      setFormError(described.appCode === 'INVALID_CREDENTIALS' ? { ...described, message: 'That password is not correct.' } : described)
    }
  }

  const fieldError = formError.fields.password ?? formError.fields.code ?? null
  return (
    <Dialog.Root
      open={isOpen}
      onOpenChange={(open) => {
        if (!open) {
          resetForm('password')
          onFinish(false)
        }
      }}
    >
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 z-50 w-[calc(100%-2rem)] max-w-sm -translate-x-1/2 -translate-y-1/2 rounded-xl bg-white p-6 shadow-xl focus:outline-none">
          <Dialog.Title className="text-lg font-semibold text-slate-900">Confirm it’s you</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600">
            {isCodeRequired
              ? 'This change removes or replaces your second factor, so it needs the second factor itself: enter the 6-digit code from your authenticator app.'
              : factor === 'password'
                ? 'For your security, enter your password to continue.'
                : 'For your security, enter the 6-digit code from your authenticator app.'}
          </Dialog.Description>

          {canUseCode && !isCodeRequired && (
            <div className="mt-4 grid grid-cols-2 gap-1 rounded-lg bg-slate-100 p-1" role="group" aria-label="Confirm with">
              {(['password', 'code'] as const).map((option) => (
                <button
                  key={option}
                  type="button"
                  aria-pressed={factor === option}
                  onClick={() => resetForm(option)}
                  className={
                    'rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ' +
                    (factor === option ? 'bg-white text-slate-900 shadow-sm' : 'text-slate-600 hover:text-slate-900')
                  }
                >
                  {option === 'password' ? 'Password' : 'Authenticator code'}
                </button>
              ))}
            </div>
          )}

          <form method="post" className="mt-4 flex flex-col gap-4" onSubmit={submit} noValidate>
            <Alert>{fieldError ? null : formError.message}</Alert>
            {factor === 'password' ? (
              <TextField
                key="password"
                label="Password"
                type="password"
                name="password"
                autoComplete="current-password"
                required
                autoFocus
                value={secret}
                onChange={(event) => setSecret(event.target.value)}
                error={fieldError}
              />
            ) : (
              <TextField
                key="code"
                label="Authentication code"
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                autoFocus
                value={secret}
                onChange={(event) => setSecret(event.target.value)}
                error={fieldError}
              />
            )}
            <div className="flex justify-end gap-2">
              <Dialog.Close asChild>
                <Button variant="secondary">Cancel</Button>
              </Dialog.Close>
              <Button type="submit" isLoading={reauthenticate.isPending} disabled={secret.length === 0}>
                Confirm
              </Button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  )
}
