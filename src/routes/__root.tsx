/// <reference types="vite/client" />
import type { QueryClient } from '@tanstack/react-query'
import { HeadContent, Link, Outlet, Scripts, createRootRouteWithContext } from '@tanstack/react-router'
import type { TRPCClient } from '@trpc/client'
import type { CreateQueryUtils } from '@trpc/react-query/shared'
import { useEffect, type ReactNode } from 'react'
import { Toaster } from 'sonner'
import { AppHeader } from '../components/app-header'
import { ReauthProvider } from '../components/reauth-provider'
import { buttonClassName } from '../components/ui/button'
import { markPageServiceUnavailable } from '../isomorphic/response-status'
import { getAppErrorCode } from '../lib/app-errors'
import type { AuthSync } from '../lib/auth-sync'
import { useAuthSync } from '../lib/use-auth-sync'
import { useViewerRevalidation } from '../lib/use-viewer'
import type { AppRouter } from '../server/trpc/root'
import appCss from '../styles/app.css?url'

const FAVICON_DATA_URL =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%234f46e5'/%3E%3Cpath d='M11 10h10v3h-7v6h4v-2h-2v-3h5v8H11z' fill='white'/%3E%3C/svg%3E"

export type RouterContext = {
  queryClient: QueryClient
  trpcUtils: CreateQueryUtils<AppRouter>
  /** The plain client, for calls that are not cached queries (a loader's mutation, e.g. `describeOneTimeLink`). */
  trpcClient: TRPCClient<AppRouter>
  authSync: AuthSync
}

export const Route = createRootRouteWithContext<RouterContext>()({
  // The viewer, loaded before anything renders. During SSR this runs in-process with the request's
  // own cookie (src/isomorphic/trpc-links.ts) into this request's fresh QueryClient, and is dehydrated
  // into the page; in the browser it is served from that cache. Every guard reads it from here.
  beforeLoad: async ({ context }) => {
    try {
      return { viewer: await context.trpcUtils.auth.me.ensureData() }
    } catch (error) {
      // The database is unreachable: the page is an outage (503), not an application error (500).
      if (getAppErrorCode(error) === 'SERVICE_UNAVAILABLE') markPageServiceUnavailable()
      throw error
    }
  },
  head: () => ({
    meta: [
      { charSet: 'utf-8' },
      { name: 'viewport', content: 'width=device-width, initial-scale=1' },
      { title: 'Gatehouse' },
    ],
    links: [
      { rel: 'stylesheet', href: appCss },
      // Inline icon: no extra request (and no 404) for /favicon.ico.
      { rel: 'icon', href: FAVICON_DATA_URL },
    ],
  }),
  component: RootComponent,
  notFoundComponent: NotFoundPage,
})

/** A 404 with a way back: the home page (which leads on to sign-in or the dashboard). */
function NotFoundPage() {
  return (
    <div className="mx-auto flex max-w-md flex-col items-center gap-4 px-4 py-16 text-center">
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="text-sm text-slate-600">The address may be mistyped, or the page has moved.</p>
      <Link to="/" className={buttonClassName('primary')}>
        Go to the home page
      </Link>
    </div>
  )
}

/** Revalidates the viewer and keeps this tab in step with the server and the other tabs. */
function AuthStateKeeper() {
  useViewerRevalidation()
  const authSync = useAuthSync()
  useEffect(() => authSync.start(), [authSync])
  return null
}

/**
 * Marks the document once React has hydrated it: until then the server HTML is inert (a click or a
 * select does nothing), which browser tests wait out instead of guessing with timeouts.
 */
function HydrationMarker() {
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true'
  }, [])
  return null
}

function RootComponent() {
  return (
    <RootDocument>
      <HydrationMarker />
      <AuthStateKeeper />
      <ReauthProvider>
        <AppHeader />
        <main className="mx-auto w-full max-w-5xl px-4 py-8 sm:px-6 sm:py-10">
          <Outlet />
        </main>
      </ReauthProvider>
      <Toaster position="top-center" closeButton richColors />
    </RootDocument>
  )
}

function RootDocument({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <HeadContent />
      </head>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        {children}
        <Scripts />
      </body>
    </html>
  )
}
