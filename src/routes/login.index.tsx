import { Link, createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import { AuthCard, TEXT_LINK_CLASS } from '../components/auth-card'
import { Alert } from '../components/ui/alert'
import { Button } from '../components/ui/button'
import { TextField } from '../components/ui/text-field'
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

function LoginPage() {
  const search = Route.useSearch()
  const demoAccounts = Route.useLoaderData()
  const authSync = useAuthSync()
  const signIn = trpc.auth.signIn.useMutation()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const [isFinishing, setIsFinishing] = useState(false)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await signIn.mutateAsync({ email, password })
    } catch (error) {
      setFormError(describeFormError(error))
      return
    }
    // Signed in, or a second factor / enrollment is owed: the refreshed viewer says which, and
    // this page's guard forwards to the redirect target or the MFA step (keeping the target).
    setIsFinishing(true)
    await authSync.syncAfterLocalChange('signed-in')
  }

  return (
    <div className="flex flex-col gap-8">
      <AuthCard
        title="Sign in"
        description="Welcome back. Sign in with your email and password."
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
        <form className="flex flex-col gap-4" onSubmit={submit} noValidate>
          <Alert>{formError.message}</Alert>
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={formError.fields.email}
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={formError.fields.password}
          />
          <div className="-mt-1 text-right text-sm">
            <Link to="/forgot-password" className={TEXT_LINK_CLASS}>
              Forgot your password?
            </Link>
          </div>
          <Button type="submit" isLoading={signIn.isPending || isFinishing}>
            Sign in
          </Button>
        </form>
      </AuthCard>

      {demoAccounts.length > 0 && (
        <DemoAccounts
          accounts={demoAccounts}
          onUse={(account) => {
            setEmail(account.email)
            setPassword(account.password)
            setFormError(NO_FORM_ERROR)
          }}
        />
      )}
    </div>
  )
}

const SIGN_IN_METHOD_LABELS: Record<DemoAccountSummary['signInMethod'], string> = {
  password: 'email and password',
  oidc: 'OIDC single sign-on',
  saml: 'SAML single sign-on',
}

/** Development only: the seeded accounts, one click to fill the form (SPEC §8). */
function DemoAccounts({ accounts, onUse }: { accounts: DemoAccountSummary[]; onUse: (account: DemoAccountSummary) => void }) {
  return (
    <section aria-labelledby="demo-accounts-heading" className="mx-auto w-full max-w-2xl rounded-xl border border-dashed border-amber-300 bg-amber-50/60 p-5">
      <h2 id="demo-accounts-heading" className="text-sm font-semibold text-amber-900">
        Demo accounts <span className="font-normal">(development only)</span>
      </h2>
      <ul className="mt-3 divide-y divide-amber-200">
        {accounts.map((account) => (
          <li key={account.email} className="flex flex-wrap items-center justify-between gap-3 py-2.5 text-sm">
            <div className="min-w-0">
              <p className="font-medium text-slate-900">
                {account.email} <span className="font-normal text-slate-600">· {account.role} at {account.organizationName}</span>
              </p>
              <p className="text-slate-600">
                Password <code className="rounded bg-white px-1 py-0.5 text-xs">{account.password}</code> · {SIGN_IN_METHOD_LABELS[account.signInMethod]}
              </p>
            </div>
            <Button variant="secondary" onClick={() => onUse(account)} aria-label={`Use ${account.email}`}>
              Use
            </Button>
          </li>
        ))}
      </ul>
    </section>
  )
}
