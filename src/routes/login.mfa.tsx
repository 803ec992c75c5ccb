/**
 * The MFA challenge (SPEC §5): after the password step, a session owing a second factor lands
 * here and can reach nothing else. A code from the authenticator app, or a recovery code; on
 * success the server rotates the session and auth-sync moves this tab (and the others) on.
 */
import { createFileRoute, redirect } from '@tanstack/react-router'
import { useRef, useState, type FormEvent } from 'react'
import appConfig from '../../app.config'
import { toast } from 'sonner'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { getMfaCompletionTarget, MFA_ENROLLMENT_PATH } from '../components/mfa/mfa-redirects'
import { cleanTotpInput, TotpCodeField, toTotpCode } from '../components/mfa/totp-code-field'
import { Alert } from '../components/ui/alert'
import { Button } from '../components/ui/button'
import { TextField } from '../components/ui/text-field'
import { parseRedirectSearch, withRedirectParam } from '../lib/auth-redirects'
import { describeFormError, NO_FORM_ERROR } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useAuthSync } from '../lib/use-auth-sync'

/** Fewer unused recovery codes than this after a sign-in: tell the user to make new ones. */
const LOW_RECOVERY_CODES = 3

const CHALLENGE_ENDED_MESSAGE = `This sign-in has ended (too many wrong codes, or more than ${Math.round(appConfig.mfa.challengeLifetimeSeconds / 60)} minutes since your password). Sign in again.`

export const Route = createFileRoute('/login/mfa')({
  validateSearch: parseRedirectSearch,
  // Only a session owing a factor belongs here; every other state has its own page.
  beforeLoad: ({ context, search }) => {
    const viewer = context.viewer
    if (viewer?.status === 'mfa-pending') return
    if (!viewer) throw redirect({ to: '/login', search: search.redirect === undefined ? {} : { redirect: search.redirect } })
    const target = getMfaCompletionTarget(search.redirect)
    if (viewer.status === 'mfa-enrollment-required') throw redirect({ href: withRedirectParam(MFA_ENROLLMENT_PATH, target) })
    throw redirect({ href: target })
  },
  head: () => ({ meta: [{ title: 'Two-factor authentication · Gatehouse' }] }),
  component: MfaChallengePage,
})

type Method = 'totp' | 'recovery-code'

function MfaChallengePage() {
  const authSync = useAuthSync()
  const verify = trpc.mfa.verify.useMutation()
  const redeemRecoveryCode = trpc.mfa.useRecoveryCode.useMutation()
  const signOut = trpc.auth.signOut.useMutation()
  const [method, setMethod] = useState<Method>('totp')
  const [code, setCode] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const [isFinishing, setIsFinishing] = useState(false)
  const codeInputRef = useRef<HTMLInputElement>(null)

  function switchMethod(next: Method) {
    setMethod(next)
    setCode('')
    setFormError(NO_FORM_ERROR)
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      if (method === 'totp') {
        await verify.mutateAsync({ code: toTotpCode(code) })
      } else {
        const { remaining } = await redeemRecoveryCode.mutateAsync({ code })
        const left = `${remaining} recovery ${remaining === 1 ? 'code' : 'codes'} left.`
        if (remaining <= LOW_RECOVERY_CODES) toast.warning(`Signed in with a recovery code. ${left} Generate new ones in Security settings.`, { duration: 10_000 })
        else toast.info(`Signed in with a recovery code. ${left}`)
      }
    } catch (error) {
      const described = describeFormError(error)
      if (described.appCode === 'UNAUTHENTICATED') {
        // The server ended this half-signed-in session: too many wrong codes, or its short
        // lifetime (`mfa.challengeLifetimeSeconds`) ran out while the code was awaited.
        toast.error(CHALLENGE_ENDED_MESSAGE)
        await authSync.syncAfterLocalChange('session-ended')
        return
      }
      if (described.appCode === 'MFA_LOCKED') {
        // Authenticator codes are blocked after too many wrong ones (ADR 016): a recovery code is the way in.
        setMethod('recovery-code')
        setCode('')
        setFormError(described)
        return
      }
      setFormError(described)
      setCode('')
      // The Verify button (focused by a click) is disabled while checking: give focus back to the field.
      codeInputRef.current?.focus()
      return
    }
    // Signed in: the refreshed viewer makes this page's guard forward to the target.
    setIsFinishing(true)
    await authSync.syncAfterLocalChange('signed-in')
  }

  async function cancel() {
    try {
      await signOut.mutateAsync()
    } catch {
      toast.error('Could not sign out. Check your connection and try again.')
      return
    }
    await authSync.syncAfterLocalChange('signed-out')
  }

  const isTotp = method === 'totp'
  const fieldError = formError.fields.code ?? null
  return (
    <AuthCard
      title="Two-factor authentication"
      description={isTotp ? 'Enter the 6-digit code from your authenticator app.' : 'Enter one of the recovery codes you saved when you set up two-factor authentication.'}
      footer={
        <button type="button" className={TEXT_LINK_CLASS} onClick={cancel} disabled={signOut.isPending}>
          Cancel and sign in as someone else
        </button>
      }
    >
      <form method="post" className="flex flex-col gap-4" onSubmit={submit} noValidate>
        <Alert>{fieldError ? null : formError.message}</Alert>
        {isTotp ? (
          <TotpCodeField key="totp" ref={codeInputRef} required autoFocus value={code} onChange={(event) => setCode(cleanTotpInput(event.target.value))} error={fieldError} />
        ) : (
          <TextField
            key="recovery-code"
            ref={codeInputRef}
            label="Recovery code"
            name="recoveryCode"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            maxLength={64}
            placeholder="xxxx-xxxx-xxxx-xxxx-xxxx-xxxx"
            required
            autoFocus
            value={code}
            onChange={(event) => setCode(event.target.value)}
            error={fieldError}
          />
        )}
        <Button type="submit" isLoading={verify.isPending || redeemRecoveryCode.isPending || isFinishing} disabled={isTotp ? toTotpCode(code).length !== 6 : code.trim().length === 0}>
          Verify
        </Button>
      </form>
      <p className="mt-4 text-sm text-slate-600">
        {isTotp ? (
          <>
            Lost your phone?{' '}
            <button type="button" className={TEXT_LINK_CLASS} onClick={() => switchMethod('recovery-code')}>
              Use a recovery code
            </button>
          </>
        ) : (
          <button type="button" className={TEXT_LINK_CLASS} onClick={() => switchMethod('totp')}>
            Use your authenticator app instead
          </button>
        )}
      </p>
    </AuthCard>
  )
}
