import { createFileRoute } from '@tanstack/react-router'
import { useState } from 'react'
import { trpc } from '../lib/trpc'

export const Route = createFileRoute('/')({
  // Runs in-process during SSR (no HTTP hop); the result is dehydrated into the page.
  loader: ({ context }) => context.trpcUtils.system.info.ensureData(),
  component: HomePage,
})

function HomePage() {
  const [info] = trpc.system.info.useSuspenseQuery()
  const [isExpanded, setIsExpanded] = useState(false)
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-6 py-16">
      <h1 className="text-3xl font-semibold tracking-tight" data-testid="app-name">
        {info.appName}
      </h1>
      <p className="text-slate-600">
        Server-side sessions, TOTP MFA, enterprise SSO and role guards for TanStack Start + tRPC.
      </p>
      <p data-testid="organization-count">
        {info.organizationCount} {info.organizationCount === 1 ? 'organization' : 'organizations'}
      </p>
      <div>
        <button
          type="button"
          className="rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-500 focus-visible:ring-offset-2"
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
    </main>
  )
}
