/**
 * The front door: what Gatehouse is, where to go next (sign in, or for a signed-in viewer their
 * dashboard, security settings and, for admins, the console), and in development the seeded demo
 * accounts. Nothing here needs the server beyond the viewer the root route already loaded.
 */
import { Link, createFileRoute } from '@tanstack/react-router'
import type { ReactNode } from 'react'
import appConfig from '../../app.config'
import { buttonClassName } from '../components/ui/button'
import { getDemoAccounts, type DemoAccountSummary } from '../functions/demo-accounts'
import { describeRole } from '../lib/auth-labels'
import { satisfiesRole } from '../lib/roles'
import { useViewer } from '../lib/use-viewer'
import { isSignedIn } from '../lib/viewer'

export const Route = createFileRoute('/')({
  // The demo list exists only in development; a production bundle never even asks for it.
  loader: (): Promise<DemoAccountSummary[]> | DemoAccountSummary[] => (import.meta.env.DEV ? getDemoAccounts() : []),
  component: HomePage,
})

const FEATURE_LINK_CLASS = 'text-sm font-medium text-indigo-700 underline-offset-2 hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 rounded-sm'

function HomePage() {
  const viewer = useViewer()
  const demoAccounts = Route.useLoaderData()
  const signedIn = isSignedIn(viewer) ? viewer : null
  const isAdmin = signedIn !== null && satisfiesRole(signedIn.user.role, 'admin')

  return (
    <div className="mx-auto flex max-w-3xl flex-col gap-10 py-6 sm:py-10">
      <section className="flex flex-col gap-4">
        <h1 className="text-3xl font-semibold tracking-tight sm:text-4xl" data-testid="app-name">
          {appConfig.appName}
        </h1>
        <p className="max-w-2xl text-lg text-slate-700">
          Sign-in for your web app, done properly: passwords and sessions you can see and end, two-factor authentication, roles, and an admin
          console with an audit log.
        </p>
        <div className="flex flex-wrap gap-3">
          {signedIn ? (
            <>
              <Link to="/app" className={buttonClassName('primary')}>
                Open your dashboard
              </Link>
              <Link to="/settings/security" className={buttonClassName('secondary')}>
                Security settings
              </Link>
              {isAdmin && (
                <Link to="/admin" className={buttonClassName('secondary')}>
                  Admin console
                </Link>
              )}
            </>
          ) : (
            <>
              <Link to="/login" className={buttonClassName('primary')}>
                Sign in
              </Link>
              {appConfig.signUp.isEnabled && (
                <Link to="/signup" className={buttonClassName('secondary')}>
                  Create an account
                </Link>
              )}
            </>
          )}
        </div>
      </section>

      <section aria-labelledby="features-heading">
        <h2 id="features-heading" className="sr-only">
          What you can do here
        </h2>
        <ul className="grid gap-4 sm:grid-cols-2">
          <Feature title="Your sessions, in your hands">
            See every device signed in to your account and sign any of them out. A changed password signs out the others.
            <FeatureLink to="/settings/security">Security settings</FeatureLink>
          </Feature>
          <Feature title="Two-factor authentication">
            Add an authenticator app and keep recovery codes for the day your phone is lost. Organizations can require it.
            <FeatureLink to="/settings/security">{signedIn?.user.isMfaEnabled ? 'Manage it' : 'Set it up'}</FeatureLink>
          </Feature>
          <Feature title="An admin console">
            Admins change roles, disable accounts, sign people out and reset a lost authenticator, each after a confirmation.
            {isAdmin && <FeatureLink to="/admin">Open the console</FeatureLink>}
          </Feature>
          <Feature title="An audit log people can read">
            Every sign-in and security change in your organization, written as a sentence, kept tamper-evident.
            {isAdmin && <FeatureLink to="/admin">Read the log</FeatureLink>}
          </Feature>
        </ul>
      </section>

      {demoAccounts.length > 0 && <DemoAccountList accounts={demoAccounts} />}
    </div>
  )
}

function Feature({ title, children }: { title: string; children: ReactNode }) {
  return (
    <li className="flex flex-col gap-2 rounded-xl border border-slate-200 bg-white p-5 text-sm text-slate-600 shadow-sm">
      <h3 className="text-base font-semibold text-slate-900">{title}</h3>
      {children}
    </li>
  )
}

function FeatureLink({ to, children }: { to: '/settings/security' | '/admin'; children: ReactNode }) {
  return (
    <Link to={to} className={`mt-auto pt-1 ${FEATURE_LINK_CLASS}`}>
      {children} <span aria-hidden="true">→</span>
    </Link>
  )
}

/** Development only: the seeded accounts (SPEC §8); the sign-in page fills them in with one click. */
function DemoAccountList({ accounts }: { accounts: DemoAccountSummary[] }) {
  return (
    <section aria-labelledby="demo-accounts-heading" className="rounded-xl border border-dashed border-amber-300 bg-amber-50/60 p-5" data-testid="home-demo-accounts">
      <h2 id="demo-accounts-heading" className="text-sm font-semibold text-amber-900">
        Try it with a demo account <span className="font-normal">(development only)</span>
      </h2>
      <p className="mt-1 text-sm text-amber-900">
        Each role sees a different app: members their own security, admins and owners the console too.{' '}
        <Link to="/login" className={FEATURE_LINK_CLASS}>
          The sign-in page
        </Link>{' '}
        fills these in with one click.
      </p>
      <div className="-mx-5 mt-3 overflow-x-auto">
        <table className="w-full min-w-[32rem] text-left text-sm">
          <thead className="text-xs uppercase tracking-wide text-amber-900/80">
            <tr>
              <th scope="col" className="px-5 py-2 font-medium">
                Email
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Password
              </th>
              <th scope="col" className="px-5 py-2 font-medium">
                Role
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-amber-200">
            {accounts.map((account) => (
              <tr key={account.email}>
                <td className="px-5 py-2 font-medium text-slate-900">{account.email}</td>
                <td className="px-3 py-2">
                  <code className="rounded bg-white px-1 py-0.5 text-xs">{account.password}</code>
                </td>
                <td className="px-5 py-2 text-slate-700">
                  {describeRole(account.role)} at {account.organizationName}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}
