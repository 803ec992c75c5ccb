/**
 * Email-first sign-in (SPEC §6): step 1 asks for the email and `auth.beginSignIn` decides. An
 * address at a domain routed to SSO leaves for the organization's identity provider
 * (`location.assign`, never a form post); every other address gets the password step, which calls
 * the unchanged `auth.signIn`. The answer depends on the domain alone, so it reveals nothing about
 * whether an account exists.
 */
import { Link, createFileRoute } from '@tanstack/react-router'
import { useEffect, useRef, useState } from 'react'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { DemoAccounts } from '../components/login/demo-accounts'
import { EmailStep } from '../components/login/email-step'
import { PasswordStep } from '../components/login/password-step'
import { SsoRedirectNotice } from '../components/login/sso-redirect-notice'
import { getDemoAccounts, type DemoAccountSummary } from '../functions/demo-accounts'
import appConfig from '../../app.config'
import { parseRedirectSearch, redirectAwayFromGuestPage } from '../lib/auth-redirects'
import { describeFormError, NO_FORM_ERROR } from '../lib/form-errors'
import { trpc } from '../lib/trpc'
import { useAuthSync } from '../lib/use-auth-sync'

export const Route = createFileRoute('/login/')({
  validateSearch: parseRedirectSearch,
  beforeLoad: ({ context, search }) => redirectAwayFromGuestPage(context.viewer, search.redirect),
  // The demo list exists only in development; a production bundle never even asks for it.
  loader: (): Promise<DemoAccountSummary[]> | DemoAccountSummary[] => (import.meta.env.DEV ? getDemoAccounts() : []),
  head: () => ({ meta: [{ title: 'Sign in · Gatehouse' }] }),
  component: LoginPage,
})

type Step = 'email' | 'password' | 'leaving-for-sso'

function LoginPage() {
  const search = Route.useSearch()
  const demoAccounts = Route.useLoaderData()
  const authSync = useAuthSync()
  const beginSignIn = trpc.auth.beginSignIn.useMutation()
  const signIn = trpc.auth.signIn.useMutation()
  const [step, setStep] = useState<Step>('email')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const [isFinishing, setIsFinishing] = useState(false)
  const emailInputRef = useRef<HTMLInputElement>(null)
  const passwordInputRef = useRef<HTMLInputElement>(null)
  const hasChangedStep = useRef(false)

  // Focus follows the step (not on first render: the page does not grab focus on arrival).
  useEffect(() => {
    if (!hasChangedStep.current) return
    if (step === 'password') passwordInputRef.current?.focus()
    if (step === 'email') emailInputRef.current?.focus()
  }, [step])

  // Back from the IdP with the browser's back button (bfcache): offer the form again, not a spinner.
  useEffect(() => {
    const onPageShow = (event: PageTransitionEvent) => {
      if (event.persisted) setStep((current) => (current === 'leaving-for-sso' ? 'email' : current))
    }
    window.addEventListener('pageshow', onPageShow)
    return () => window.removeEventListener('pageshow', onPageShow)
  }, [])

  function goTo(next: Step) {
    hasChangedStep.current = true
    setStep(next)
  }

  async function continueWithEmail(address: string) {
    setFormError(NO_FORM_ERROR)
    try {
      const answer = await beginSignIn.mutateAsync({ email: address, redirect: search.redirect })
      if (answer.next === 'sso') {
        goTo('leaving-for-sso')
        window.location.assign(answer.url)
        return
      }
      goTo('password')
    } catch (error) {
      setFormError(describeFormError(error))
      emailInputRef.current?.focus()
    }
  }

  async function signInWithPassword() {
    setFormError(NO_FORM_ERROR)
    try {
      await signIn.mutateAsync({ email, password })
    } catch (error) {
      setFormError(describeFormError(error))
      passwordInputRef.current?.focus()
      return
    }
    // Signed in, or a second factor / enrollment is owed: the refreshed viewer says which, and
    // this page's guard forwards to the redirect target or the MFA step (keeping the target).
    setIsFinishing(true)
    await authSync.syncAfterLocalChange('signed-in')
  }

  /**
   * Break-glass entry: under mandatory SSO the email step sends everyone to the IdP, but the
   * break-glass owner must still reach the password form when the IdP is down. The server decides
   * (only that owner's password works there); this link only skips discovery.
   */
  function usePasswordInstead() {
    setFormError(NO_FORM_ERROR)
    goTo('password')
  }

  function switchToAnotherEmail() {
    setPassword('')
    setFormError(NO_FORM_ERROR)
    goTo('email')
  }

  function fillDemoAccount(account: DemoAccountSummary) {
    setEmail(account.email)
    setFormError(NO_FORM_ERROR)
    if (account.signInMethod === 'password') {
      setPassword(account.password)
      goTo('password')
      return
    }
    // SSO accounts: the server routes the address to the local IdP, where the password goes.
    setPassword('')
    void continueWithEmail(account.email)
  }

  return (
    <div className="flex flex-col gap-8">
      <AuthCard
        title="Sign in"
        description={step === 'password' ? 'Enter your password to continue.' : 'Welcome back. Enter your email to continue.'}
        footer={
          appConfig.signUp.isEnabled && (
            <>
              New here?{' '}
              <Link to="/signup" search={search} className={TEXT_LINK_CLASS}>
                Create an account
              </Link>
            </>
          )
        }
      >
        {step === 'email' && (
          <EmailStep
            email={email}
            onEmailChange={setEmail}
            onSubmit={() => void continueWithEmail(email)}
            isPending={beginSignIn.isPending}
            formError={formError}
            emailInputRef={emailInputRef}
          />
        )}
        {step === 'email' && (
          <p className="text-center text-xs text-slate-500">
            <button type="button" className={TEXT_LINK_CLASS} onClick={usePasswordInstead} disabled={email.trim().length === 0}>
              Sign in with a password
            </button>{' '}
            (for accounts that keep one when single sign-on is required)
          </p>
        )}
        {step === 'password' && (
          <PasswordStep
            email={email}
            password={password}
            onPasswordChange={setPassword}
            onSubmit={() => void signInWithPassword()}
            onUseAnotherEmail={switchToAnotherEmail}
            isPending={signIn.isPending || isFinishing}
            formError={formError}
            passwordInputRef={passwordInputRef}
          />
        )}
        {step === 'leaving-for-sso' && <SsoRedirectNotice />}
      </AuthCard>

      {demoAccounts.length > 0 && <DemoAccounts accounts={demoAccounts} onUse={fillDemoAccount} />}
    </div>
  )
}
