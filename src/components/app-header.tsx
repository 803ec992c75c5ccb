/**
 * The top bar. It reads the viewer from the hydrated cache, so the server's first HTML already
 * shows the signed-in user's name and links (no signed-out flash, no layout shift).
 */
import { Link } from '@tanstack/react-router'
import type { ReactNode } from 'react'
import appConfig from '../../app.config'
import { useViewer } from '../lib/use-viewer'
import { RequireRole } from './require-role'
import { SignOutButton } from './sign-out-button'
import { formatEmailForDisplay } from '../lib/email-display'
import { buttonClassName } from './ui/button'

function NavLink({ to, children }: { to: '/app' | '/settings/security' | '/admin'; children: ReactNode }) {
  return (
    <Link
      to={to}
      className="rounded-md px-3 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      activeProps={{ className: 'bg-slate-100 text-slate-900' }}
    >
      {children}
    </Link>
  )
}

/** Brand, main navigation (role-aware) and the viewer's name with a sign-out button. */
export function AppHeader() {
  const viewer = useViewer()
  const user = viewer && 'user' in viewer ? viewer.user : null
  const isSignedIn = viewer?.status === 'signed-in'
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-5xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3 sm:px-6">
        <Link to="/" className="flex items-center gap-2 rounded-md text-base font-semibold text-slate-900 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
          <span aria-hidden="true" className="grid size-7 place-items-center rounded-md bg-indigo-600 text-sm text-white">
            G
          </span>
          {appConfig.appName}
        </Link>

        {isSignedIn && (
          <nav aria-label="Main" className="order-last -mx-3 flex w-full gap-1 overflow-x-auto sm:order-none sm:mx-0 sm:w-auto">
            <NavLink to="/app">Dashboard</NavLink>
            <NavLink to="/settings/security">Security</NavLink>
            <RequireRole role="admin">
              <NavLink to="/admin">Admin</NavLink>
            </RequireRole>
          </nav>
        )}

        <div className="ml-auto flex items-center gap-3">
          {viewer ? (
            <>
              {user && (
                <span className="hidden text-right text-sm leading-tight sm:block">
                  <span className="block font-medium text-slate-900" data-testid="viewer-name">
                    {user.name}
                  </span>
                  <span className="block text-xs text-slate-500" data-testid="viewer-email">
                    {formatEmailForDisplay(user.email)}
                  </span>
                </span>
              )}
              <SignOutButton />
            </>
          ) : (
            <>
              <Link to="/login" className={buttonClassName('ghost')}>
                Sign in
              </Link>
              {appConfig.signUp.isEnabled && (
                <Link to="/signup" className={buttonClassName('primary')}>
                  Sign up
                </Link>
              )}
            </>
          )}
        </div>
      </div>
    </header>
  )
}
