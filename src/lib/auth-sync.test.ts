import { QueryClient } from '@tanstack/react-query'
import { createTRPCClient, TRPCClientError, type TRPCLink } from '@trpc/client'
import { createTRPCQueryUtils } from '@trpc/react-query'
import { observable } from '@trpc/server/observable'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppRouter } from '../server/trpc/root'
import { createAuthSync, isViewerQueryKey, type AuthSync } from './auth-sync'
import type { Viewer } from './viewer'

const SIGNED_IN: Viewer = {
  status: 'signed-in',
  user: { id: 'u1', email: 'a@example.test', name: 'Ann', role: 'member', isEmailVerified: true, isMfaEnabled: false, hasPassword: true, organization: null },
  session: { id: 's1', authMethod: 'password', ssoConnectionId: null, ssoConnectionName: null, createdAt: '2026-01-01T00:00:00.000Z', mfaSatisfiedAt: null, reauthenticatedAt: '2026-01-01T00:00:00.000Z' },
}

/** A client-side tab: its own QueryClient, a stand-in server answering `auth.me`, a counted router invalidation. */
function createTab(serverViewer: { current: Viewer }) {
  const queryClient = new QueryClient()
  let meCalls = 0
  // Stands in for the HTTP link: answers `auth.me` with whatever the "server" currently says.
  const serverLink: TRPCLink<AppRouter> = () => ({ op }) =>
    observable((observer) => {
      if (op.path === 'auth.me') meCalls += 1
      observer.next({ result: { type: 'data', data: op.path === 'auth.me' ? serverViewer.current : null } })
      observer.complete()
    })
  const trpcClient = createTRPCClient<AppRouter>({ links: [serverLink] })
  const trpcUtils = createTRPCQueryUtils<AppRouter>({ queryClient, client: trpcClient })
  const tab = { queryClient, trpcUtils, routerInvalidations: 0, plainSignInPages: 0, meCalls: () => meCalls, authSync: undefined as unknown as AuthSync }
  tab.authSync = createAuthSync({
    queryClient,
    trpcClient,
    trpcUtils,
    invalidateRouter: async () => void (tab.routerInvalidations += 1),
    showSignInPageAfterSignOut: async () => void (tab.plainSignInPages += 1),
  })
  return tab
}

function trpcError(appCode: string, code: string) {
  return TRPCClientError.from({ error: { code: -32001, message: appCode, data: { code, appCode, httpStatus: 401 } } } as never)
}

const stops: Array<() => void> = []
afterEach(() => stops.splice(0).forEach((stop) => stop()))

function startTab(tab: ReturnType<typeof createTab>, viewer: Viewer) {
  tab.trpcUtils.auth.me.setData(undefined, viewer)
  tab.queryClient.setQueryData([['sessions', 'list'], { type: 'query' }], ['previous user data'])
  stops.push(tab.authSync.start())
}

describe('createAuthSync', () => {
  it('recognises the viewer query key', () => {
    expect(isViewerQueryKey([['auth', 'me'], { type: 'query' }])).toBe(true)
    expect(isViewerQueryKey([['auth', 'meta'], { type: 'query' }])).toBe(false)
    expect(isViewerQueryKey([['sessions', 'list']])).toBe(false)
  })

  it('stays inert until started (SSR never reacts)', () => {
    const tab = createTab({ current: null })
    tab.authSync.noteFetchedViewer(null)
    tab.authSync.handleProcedureError(trpcError('UNAUTHENTICATED', 'UNAUTHORIZED'))
    expect(tab.routerInvalidations).toBe(0)
  })

  it('a revalidation that finds the session gone drops every other cached query and re-runs the guards', () => {
    const tab = createTab({ current: null })
    startTab(tab, SIGNED_IN)
    tab.authSync.noteFetchedViewer(null)
    expect(tab.trpcUtils.auth.me.getData()).toBeNull()
    expect(tab.queryClient.getQueryCache().getAll().map((query) => query.queryKey)).toEqual([[['auth', 'me'], { type: 'query' }]])
    expect(tab.routerInvalidations).toBe(1)
    // Seeing the same answer again changes nothing.
    tab.authSync.noteFetchedViewer(null)
    expect(tab.routerInvalidations).toBe(1)
  })

  it('any UNAUTHENTICATED error signs the UI out without asking again', () => {
    const tab = createTab({ current: SIGNED_IN })
    startTab(tab, SIGNED_IN)
    tab.authSync.handleProcedureError(trpcError('UNAUTHENTICATED', 'UNAUTHORIZED'))
    expect(tab.trpcUtils.auth.me.getData()).toBeNull()
    expect(tab.routerInvalidations).toBe(1)
    expect(tab.meCalls()).toBe(0)
  })

  it('a wrong password (INVALID_CREDENTIALS, also 401) or REAUTH_REQUIRED is left to the form', () => {
    const tab = createTab({ current: SIGNED_IN })
    startTab(tab, SIGNED_IN)
    tab.authSync.handleProcedureError(trpcError('INVALID_CREDENTIALS', 'UNAUTHORIZED'))
    tab.authSync.handleProcedureError(trpcError('REAUTH_REQUIRED', 'FORBIDDEN'))
    tab.authSync.handleProcedureError(new Error('network down'))
    expect(tab.trpcUtils.auth.me.getData()).toEqual(SIGNED_IN)
    expect(tab.routerInvalidations).toBe(0)
    expect(tab.meCalls()).toBe(0)
  })

  it('MFA_REQUIRED asks the server for the viewer and follows the answer', async () => {
    const server = { current: { status: 'mfa-pending' } as Viewer }
    const tab = createTab(server)
    startTab(tab, SIGNED_IN)
    tab.authSync.handleProcedureError(trpcError('MFA_REQUIRED', 'UNAUTHORIZED'))
    await expect.poll(() => tab.routerInvalidations).toBe(1)
    expect(tab.trpcUtils.auth.me.getData()).toEqual({ status: 'mfa-pending' })
  })

  it('a demotion (same user, lower role) re-runs the guards', () => {
    const tab = createTab({ current: null })
    startTab(tab, { ...SIGNED_IN, user: { ...SIGNED_IN.user, role: 'admin' } })
    tab.authSync.noteFetchedViewer(SIGNED_IN)
    expect(tab.routerInvalidations).toBe(1)
  })

  it('a field that does not move the viewer (isMfaEnabled) updates the cache without re-routing', async () => {
    const enrolled: Viewer = { ...SIGNED_IN, user: { ...SIGNED_IN.user, isMfaEnabled: true } }
    const tab = createTab({ current: enrolled })
    startTab(tab, SIGNED_IN)
    await tab.authSync.syncAfterLocalChange('signed-in')
    expect(tab.trpcUtils.auth.me.getData()).toEqual(enrolled)
    expect(tab.routerInvalidations).toBe(0)
  })

  it('signing out in one tab signs the other tab out (BroadcastChannel)', async () => {
    const server = { current: SIGNED_IN as Viewer }
    const first = createTab(server)
    const second = createTab(server)
    startTab(first, SIGNED_IN)
    startTab(second, SIGNED_IN)

    server.current = null
    await first.authSync.syncAfterLocalChange('signed-out')
    expect(first.plainSignInPages).toBe(1)
    await expect.poll(() => second.trpcUtils.auth.me.getData()).toBeNull()
    // A deliberate sign-out: the other tab shows the plain sign-in page too (no redirect back).
    expect(second.plainSignInPages).toBe(1)
    expect(second.routerInvalidations).toBe(0)
    // A channel never hears its own message: the first tab did not ask the server again.
    expect(first.meCalls()).toBe(0)

    server.current = SIGNED_IN
    await first.authSync.syncAfterLocalChange('signed-in')
    await expect.poll(() => second.trpcUtils.auth.me.getData()).toEqual(SIGNED_IN)
    expect(second.routerInvalidations).toBe(1)
  })

  it('a deliberate sign-out leaves no redirect behind; a session that ended (reset, revoked) keeps the way back', async () => {
    const signedOut = createTab({ current: null })
    startTab(signedOut, SIGNED_IN)
    await signedOut.authSync.syncAfterLocalChange('signed-out')
    expect([signedOut.plainSignInPages, signedOut.routerInvalidations]).toEqual([1, 0])

    const ended = createTab({ current: null })
    startTab(ended, SIGNED_IN)
    await ended.authSync.syncAfterLocalChange('session-ended')
    expect([ended.plainSignInPages, ended.routerInvalidations]).toEqual([0, 1])

    const revoked = createTab({ current: null })
    startTab(revoked, SIGNED_IN)
    revoked.authSync.noteFetchedViewer(null)
    expect([revoked.plainSignInPages, revoked.routerInvalidations]).toEqual([0, 1])
  })
})
