/**
 * Step-up re-authentication for sensitive actions (SPEC §3). Wrap a call in `withReauth`: when the
 * server answers REAUTH_REQUIRED, a dialog asks for the password (or an authenticator code for MFA
 * users, or a fresh sign-in at the identity provider for SSO sessions), the session is stamped, and
 * the original call is retried once. When the
 * action removes a second factor (REAUTH_SECOND_FACTOR_REQUIRED) the dialog asks for the code only,
 * and says why.
 *
 *   const { withReauth } = useReauth()
 *   await withReauth(() => changePassword.mutateAsync(input))
 */
import * as Dialog from '@radix-ui/react-dialog'
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { getAppErrorCode } from '../lib/app-errors'
import { AUTH_CHANNEL_NAME, type AuthMessage } from '../lib/auth-sync'
import { describeFormError, NO_FORM_ERROR, type FormError } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useViewer } from '../lib/use-viewer'
import { Alert } from './ui/alert'
import { Button } from './ui/button'
import { Spinner } from './ui/spinner'
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

/** The popup's window features: a small window of its own, as IdP sign-in pages expect. */
const POPUP_FEATURES = 'popup,width=520,height=700'

function ReauthDialog({ demand, onFinish }: { demand: ReauthDemand | null; onFinish: (isConfirmed: boolean) => void }) {
  const viewer = useViewer()
  const isOpen = demand !== null
  const isCodeRequired = demand === 'second-factor'
  const known = viewer !== null && 'user' in viewer ? viewer : null
  // What this user can confirm with: a password only if they have one (SSO-only accounts do not),
  // a code only with TOTP, the identity provider only when this session signed in through it.
  const factors: Factor[] = isCodeRequired ? ['code'] : [...(known?.user.hasPassword ? (['password'] as const) : []), ...(known?.user.isMfaEnabled ? (['code'] as const) : [])]
  const ssoConnectionName = !isCodeRequired && known && 'session' in known ? (known.session.ssoConnectionName ?? null) : null
  const [chosenFactor, setFactor] = useState<Factor | null>(null)
  const factor: Factor | null = chosenFactor && factors.includes(chosenFactor) ? chosenFactor : (factors[0] ?? null)
  const [secret, setSecret] = useState('')
  const [formError, setFormError] = useState<FormError>(NO_FORM_ERROR)
  const reauthenticate = trpc.auth.reauthenticate.useMutation()

  function resetForm(nextFactor: Factor | null) {
    setFactor(nextFactor)
    setSecret('')
    setFormError(NO_FORM_ERROR)
  }

  function close(isConfirmed: boolean) {
    resetForm(null)
    onFinish(isConfirmed)
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (!factor) return
    setFormError(NO_FORM_ERROR)
    try {
      await reauthenticate.mutateAsync(factor === 'password' ? { password: secret } : { code: secret.trim() })
      close(true)
    } catch (error) {
      // The session itself is gone: auth-sync is already taking the user to the login page.
      if (getAppErrorCode(error) === 'UNAUTHENTICATED') {
        close(false)
        return
      }
      const described = describeFormError(error)
      // The sign-in wording ("Email or password…") would confuse here: only the password was asked.
      setFormError(described.appCode === 'INVALID_CREDENTIALS' ? { ...described, message: 'That password is not correct.' } : described)
    }
  }

  const fieldError = formError.fields.password ?? formError.fields.code ?? null
  const description = isCodeRequired
    ? 'This change removes or replaces your second factor, so it needs the second factor itself: enter the 6-digit code from your authenticator app.'
    : ssoConnectionName
      ? `For your security, sign in again with ${ssoConnectionName}${factor === 'password' ? ', or enter your password' : factor === 'code' ? ', or enter the 6-digit code from your authenticator app' : ''}.`
      : factor === 'password'
        ? 'For your security, enter your password to continue.'
        : 'For your security, enter the 6-digit code from your authenticator app.'
  return (
    <Dialog.Root
      open={isOpen}
      onOpenChange={(open) => {
        if (!open) close(false)
      }}
    >
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 z-50 w-[calc(100%-2rem)] max-w-sm -translate-x-1/2 -translate-y-1/2 rounded-xl bg-white p-6 shadow-xl focus:outline-none">
          <Dialog.Title className="text-lg font-semibold text-slate-900">Confirm it’s you</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600">{description}</Dialog.Description>

          {ssoConnectionName && isOpen && <SsoStepUp connectionName={ssoConnectionName} onConfirmed={() => close(true)} />}

          {factors.length > 1 && (
            <div className="mt-4 grid grid-cols-2 gap-1 rounded-lg bg-slate-100 p-1" role="group" aria-label="Confirm with">
              {factors.map((option) => (
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

          {factor ? (
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
                  autoFocus={!ssoConnectionName}
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
                  autoFocus={!ssoConnectionName}
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
          ) : (
            <div className="mt-6 flex justify-end">
              <Dialog.Close asChild>
                <Button variant="secondary">Cancel</Button>
              </Dialog.Close>
            </div>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  )
}

/**
 * "Continue with <connection>": a step-up at the identity provider in a popup. The popup is opened
 * in the click itself (before the request), so popup blockers allow it; its last page,
 * `/reauth/complete`, says "reauthenticated" on the `gatehouse-auth` channel and closes. When no
 * popup can open, the whole page goes to the IdP and comes back here (the action is not retried
 * then: the user presses it again, now within the re-authentication window).
 */
function SsoStepUp({ connectionName, onConfirmed }: { connectionName: string; onConfirmed: () => void }) {
  const beginSsoReauthentication = trpc.auth.beginSsoReauthentication.useMutation()
  const [isWaiting, setIsWaiting] = useState(false)
  const [message, setMessage] = useState<string | null>(null)
  const popupRef = useRef<Window | null>(null)
  const onConfirmedRef = useRef(onConfirmed)
  onConfirmedRef.current = onConfirmed

  useEffect(() => {
    if (typeof BroadcastChannel === 'undefined') return
    const channel = new BroadcastChannel(AUTH_CHANNEL_NAME)
    channel.onmessage = (event: MessageEvent<AuthMessage>) => {
      if (event.data?.type === 'reauthenticated') onConfirmedRef.current()
    }
    // No watching `popup.closed`: the app's COOP (same-origin) severs the handle as soon as the popup
    // reaches the IdP, after which it always reads true. The button stays usable to start again.
    return () => {
      channel.close()
      popupRef.current?.close()
    }
  }, [])

  async function start() {
    setMessage(null)
    const popup = window.open('', 'gatehouse-reauth', POPUP_FEATURES)
    const here = `${window.location.pathname}${window.location.search}${window.location.hash}`
    try {
      const { url } = await beginSsoReauthentication.mutateAsync({ redirect: popup ? '/reauth/complete' : here })
      if (!popup) {
        window.location.assign(url)
        return
      }
      popup.location.href = url
      popupRef.current = popup
      setIsWaiting(true)
    } catch (error) {
      popup?.close()
      setMessage(describeFormError(error).message)
    }
  }

  return (
    <div className="mt-4 flex flex-col gap-3">
      <Alert>{message}</Alert>
      <Button variant="primary" isLoading={beginSsoReauthentication.isPending} onClick={() => void start()} autoFocus>
        Continue with {connectionName}
      </Button>
      {isWaiting && (
        <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
          <Spinner /> Finish signing in with {connectionName} in the window that opened.
        </p>
      )}
    </div>
  )
}
