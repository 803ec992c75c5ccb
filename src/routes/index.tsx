import { Link, createFileRoute } from '@tanstack/react-router'
import { useState } from 'react'
import appConfig from '../../app.config'
import { buttonClassName } from '../components/ui/button'
import { trpc } from '../lib/trpc'
import { useViewer } from '../lib/use-viewer'

export const Route = createFileRoute('/')({
  // Runs in-process during SSR (no HTTP hop); the result is dehydrated into the page.
  loader: ({ context }) => context.trpcUtils.system.info.ensureData(),
  component: HomePage,
})

function HomePage() {
  const [info] = trpc.system.info.useSuspenseQuery()
  const viewer = useViewer()
  const [isExpanded, setIsExpanded] = useState(false)
  return (
    <div className="mx-auto flex max-w-2xl flex-col gap-6 py-8 sm:py-12">
      <h1 className="text-3xl font-semibold tracking-tight" data-testid="app-name">
        {info.appName}
      </h1>
      <p className="text-slate-600">Server-side sessions, TOTP MFA, enterprise SSO and role guards for TanStack Start + tRPC.</p>
      <div className="flex flex-wrap gap-3">
        {viewer?.status === 'signed-in' ? (
          <Link to="/app" className={buttonClassName('primary')}>
            Open your dashboard
          </Link>
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
      <p data-testid="organization-count">
        {info.organizationCount} {info.organizationCount === 1 ? 'organization' : 'organizations'}
      </p>
      <div>
        <button
          type="button"
          className={buttonClassName('secondary')}
          aria-expanded={isExpanded}
          aria-controls="role-list"
          onClick={() => setIsExpanded((value) => !value)}
        >
          {isExpanded ? 'Hide roles' : 'Show roles'}
        </button>
        {isExpanded && (
          <ul id="role-list" className="mt-3 list-inside list-disc text-slate-700" data-testid="role-list">
            {info.roles.map((role) => (
              <li key={role}>{role}</li>
            ))}
          </ul>
        )}
      </div>
    </div>
  )
}
