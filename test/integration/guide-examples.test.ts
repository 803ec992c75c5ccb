// test/integration/guide-examples.test.ts
/**
 * The guide's example router (docs/examples/profile-router.ts), mounted here only, called through
 * a real session on a real database: who may call what, and a refusal writes nothing.
 */
import { describe, expect, it } from 'vitest'
import { createCallerFactory } from '../../src/server/trpc/init'
import { guideExampleRouter } from '../../docs/examples/profile-router'
import { createTestOrganization, createTestUser, nextTestIp, readUser, sessionCookieHeader, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { testRequestContext } from '../support/caller'
import { catchTrpcError } from '../support/trpc-errors'

const createGuideCaller = createCallerFactory(guideExampleRouter)

/** A caller of the example router presenting `token` (none: anonymous), as the HTTP handler would build it. */
function guideCaller(token?: string) {
  return createGuideCaller(testRequestContext({ ip: nextTestIp(), ...(token ? { cookie: sessionCookieHeader(token) } : {}) }))
}

async function signedIn(role: 'member' | 'admin', options: { isReauthStale?: boolean } = {}) {
  const organization = await createTestOrganization()
  const { user } = await createTestUser({ role, organizationId: organization.id, name: 'Before' })
  // isReauthStale: re-authenticated longer ago than the window, so sensitive procedures refuse.
  const { token } = await signedInCaller(user, { ip: nextTestIp(), isReauthStale: options.isReauthStale })
  return { user, organization, caller: guideCaller(token) }
}

describe('profile (protectedProcedure, sensitiveProcedure)', () => {
  it('a signed-in member reads their profile and, recently re-authenticated, renames themself', async () => {
    const { user, organization, caller } = await signedIn('member')
    expect(await caller.profile.me()).toEqual({ name: 'Before', role: 'member', organizationName: organization.name })
    await caller.profile.rename({ name: 'After' })
    expect((await readUser(user.id))?.name).toBe('After')
  })

  it('anonymous gets UNAUTHORIZED and nothing is written', async () => {
    const before = await tableChecksums()
    expect(await catchTrpcError(guideCaller().profile.rename({ name: 'Intruder' }))).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'UNAUTHENTICATED' })
    expect(await tableChecksums()).toEqual(before)
  })

  it('a stale session gets REAUTH_REQUIRED and the name is unchanged', async () => {
    const { user, caller } = await signedIn('member', { isReauthStale: true })
    const before = await tableChecksums()
    expect(await catchTrpcError(caller.profile.rename({ name: 'After' }))).toMatchObject({ code: 'FORBIDDEN', appCode: 'REAUTH_REQUIRED' })
    expect(await tableChecksums()).toEqual(before)
    expect((await readUser(user.id))?.name).toBe('Before')
  })
})

describe('team (roleProcedure, adminSensitiveProcedure)', () => {
  it('an admin lists the people of their own organization only', async () => {
    const { user, caller } = await signedIn('admin')
    await signedIn('admin') // someone in another organization
    expect(await caller.team.members()).toEqual([{ id: user.id, name: 'Before', role: 'admin' }])
  })

  it('a member gets FORBIDDEN on both, and nothing is written', async () => {
    const { caller } = await signedIn('member')
    const before = await tableChecksums()
    expect(await catchTrpcError(caller.team.members())).toMatchObject({ code: 'FORBIDDEN', appCode: 'FORBIDDEN' })
    expect(await catchTrpcError(caller.team.rename({ name: 'Taken over' }))).toMatchObject({ code: 'FORBIDDEN', appCode: 'FORBIDDEN' })
    expect(await tableChecksums()).toEqual(before)
  })

  it('an admin renames their organization', async () => {
    const { organization, caller } = await signedIn('admin')
    await caller.team.rename({ name: 'Renamed' })
    const [row] = await sql('SELECT name FROM organizations WHERE id = ?', [organization.id])
    expect(row?.name).toBe('Renamed')
  })
})
