/**
 * Revocation across instances (SPEC §2, §8 scale-out): two production servers on one database, as
 * behind a load balancer. A session revoked through one is dead on the other at its very next
 * request: no instance caches a session.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { RunningAppServer } from '../setup/app-server'
import { createPasswordUser, getTrpc, getViewer, postTrpc, sessionCookieFrom, signInOverHttp, startSecurityTestServer, TEST_PASSWORD, type TrpcErrorBody } from './security-support'

const EMAIL = 'roaming@revocation.test'

describe('revocation across two instances sharing one database', () => {
  let instanceA: RunningAppServer
  let instanceB: RunningAppServer

  beforeAll(async () => {
    instanceA = await startSecurityTestServer(inject('runId'), 'revocation')
    instanceB = await startSecurityTestServer(inject('runId'), 'revocation', { databaseUrl: instanceA.databaseUrl })
    await createPasswordUser(instanceA.databaseUrl, { email: EMAIL })
  })
  afterAll(async () => {
    await Promise.all([instanceA?.stop(), instanceB?.stop()])
  })

  async function expectUnauthenticated(server: RunningAppServer, cookie: string): Promise<void> {
    expect(await getViewer(server, cookie)).toBeNull()
    const response = await getTrpc(server, 'sessions.list', undefined, { cookie })
    expect(response.status).toBe(401)
    expect(((await response.json()) as TrpcErrorBody).error.data.appCode).toBe('UNAUTHENTICATED')
  }

  it('a session revoked through A ("sign out other sessions") is refused by B on the next request', async () => {
    const stolen = await signInOverHttp(instanceA, EMAIL)
    // Both instances know the session before revocation (B has validated it once).
    expect(await getViewer(instanceB, stolen)).toMatchObject({ user: { email: EMAIL } })
    expect((await getTrpc(instanceB, 'sessions.list', undefined, { cookie: stolen })).status).toBe(200)

    const owner = await signInOverHttp(instanceA, EMAIL)
    const revoke = await postTrpc(instanceA, 'sessions.revokeOthers', undefined, { cookie: owner })
    expect(revoke.status).toBe(200)
    expect(((await revoke.json()) as { result: { data: { revoked: number } } }).result.data.revoked).toBe(1)

    await expectUnauthenticated(instanceB, stolen)
    // The owner's own session survives on both instances.
    expect(await getViewer(instanceB, owner)).toMatchObject({ user: { email: EMAIL } })
  })

  it('a sign-out on B ends the session on A at once', async () => {
    const cookie = await signInOverHttp(instanceA, EMAIL)
    expect(await getViewer(instanceB, cookie)).toMatchObject({ user: { email: EMAIL } })
    const signOut = await postTrpc(instanceB, 'auth.signOut', undefined, { cookie })
    expect(signOut.status).toBe(200)
    await expectUnauthenticated(instanceA, cookie)
  })
})

describe('re-authentication issues a new token on every instance (OWASP ASVS 7.2.4)', () => {
  let instanceA: RunningAppServer
  let instanceB: RunningAppServer
  const email = 'stepper@rotation.test'

  beforeAll(async () => {
    instanceA = await startSecurityTestServer(inject('runId'), 'reauthrotation')
    instanceB = await startSecurityTestServer(inject('runId'), 'reauthrotation', { databaseUrl: instanceA.databaseUrl })
    await createPasswordUser(instanceA.databaseUrl, { email })
  })
  afterAll(async () => {
    await Promise.all([instanceA?.stop(), instanceB?.stop()])
  })

  it('the token a step-up replaced is dead on both instances at the next request; the new one works on both', async () => {
    const before = await signInOverHttp(instanceA, email)
    expect(await getViewer(instanceB, before)).toMatchObject({ user: { email } })

    const reauth = await postTrpc(instanceA, 'auth.reauthenticate', { password: TEST_PASSWORD }, { cookie: before })
    expect(reauth.status).toBe(200)
    const after = sessionCookieFrom(reauth)
    expect(after).toBeTruthy()
    expect(after).not.toBe(before)

    expect(await getViewer(instanceA, before)).toBeNull()
    expect(await getViewer(instanceB, before)).toBeNull()
    expect(await getViewer(instanceA, after!)).toMatchObject({ user: { email } })
    expect(await getViewer(instanceB, after!)).toMatchObject({ user: { email } })
  })
})
