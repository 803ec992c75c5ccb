/**
 * SSO flow state (ADR 014), protocol-independent. Attacks covered: a replayed callback (same
 * browser, other browser, racing requests on several instances: exactly one wins); login CSRF /
 * a callback URL swapped into another browser (binding cookie); a callback on another connection's
 * URL (IdP mix-up); an expired flow; a database read that would reveal the state or the PKCE
 * verifier.
 */
import { describe, expect, it } from 'vitest'
import { now } from '../../src/server/clock'
import { createDatabase, getDb } from '../../src/server/db/client'
import { consumeSsoLoginFlow, createSsoLoginFlow, generateFlowRandomValue, hashFlowValue } from '../../src/server/sso/login-flows'
import appConfig from '../../app.config'
import { createTestOrganization, sql } from '../support/auth-fixtures'
import { createTestOidcConnection } from '../support/sso-fixtures'

async function startFlow(overrides: { hasPkce?: boolean } = {}) {
  const organization = await createTestOrganization()
  const connection = await createTestOidcConnection(organization.id)
  const browserBinding = generateFlowRandomValue()
  const created = await createSsoLoginFlow(
    { db: getDb(), now: now() },
    { connectionId: connection.id, purpose: 'sign_in', redirectTo: '/settings', browserBinding, hasPkce: overrides.hasPkce ?? true },
  )
  return { connection, browserBinding, ...created }
}

describe('SSO login flows', () => {
  it('stores only hashes of the state and the binding, and the PKCE verifier sealed', async () => {
    const { flow, state, nonce, pkceVerifier, browserBinding } = await startFlow()
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(pkceVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const [row] = await sql('SELECT * FROM sso_login_flows WHERE id = ?', [flow.id])
    const dump = JSON.stringify(row)
    expect(dump).not.toContain(state)
    expect(dump).not.toContain(pkceVerifier)
    expect(dump).not.toContain(browserBinding)
    expect(row).toMatchObject({ state_hash: hashFlowValue(state), nonce, purpose: 'sign_in', redirect_to: '/settings' })
    expect(row!.expires_at.getTime() - row!.created_at.getTime()).toBe(appConfig.sso.flowLifetimeSeconds * 1000)
  })

  it('is consumed once by the browser that started it, giving back the verifier', async () => {
    const { connection, state, browserBinding, pkceVerifier, flow } = await startFlow()
    const consumed = await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state, browserBinding, connectionId: connection.id })
    expect(consumed).toMatchObject({ isConsumed: true, pkceVerifier, flow: { id: flow.id, redirectTo: '/settings' } })
    const replay = await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state, browserBinding, connectionId: connection.id })
    expect(replay).toMatchObject({ isConsumed: false, reason: 'already_consumed' })
  })

  it('refuses another browser (or none) and spends the flow, so the real browser cannot retry either', async () => {
    for (const otherBinding of [generateFlowRandomValue(), null]) {
      const { connection, state, browserBinding } = await startFlow()
      expect(await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state, browserBinding: otherBinding, connectionId: connection.id })).toMatchObject({
        isConsumed: false,
        reason: 'browser_mismatch',
      })
      expect(await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state, browserBinding, connectionId: connection.id })).toMatchObject({ reason: 'already_consumed' })
    }
  })

  it("refuses a callback on another connection's URL", async () => {
    const { state, browserBinding } = await startFlow()
    const other = await startFlow()
    expect(await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state, browserBinding, connectionId: other.connection.id })).toMatchObject({
      isConsumed: false,
      reason: 'connection_mismatch',
    })
  })

  it('refuses an unknown or expired state', async () => {
    const { connection, state, browserBinding } = await startFlow()
    expect(await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state: `${state}x`, browserBinding, connectionId: connection.id })).toMatchObject({ reason: 'unknown_state', flow: null })
    expect(await consumeSsoLoginFlow({ db: getDb(), now: now() }, { state: '', browserBinding, connectionId: connection.id })).toMatchObject({ reason: 'unknown_state' })
    const later = new Date(now().getTime() + appConfig.sso.flowLifetimeSeconds * 1000 + 1)
    expect(await consumeSsoLoginFlow({ db: getDb(), now: later }, { state, browserBinding, connectionId: connection.id })).toMatchObject({ isConsumed: false, reason: 'expired' })
  })

  it('lets exactly one of many racing callbacks win, across separate connection pools (instances)', async () => {
    const { connection, state, browserBinding } = await startFlow({ hasPkce: false })
    const instances = [createDatabase(process.env.DATABASE_URL!), createDatabase(process.env.DATABASE_URL!)]
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) => consumeSsoLoginFlow({ db: instances[index % 2]!.db, now: now() }, { state, browserBinding, connectionId: connection.id })),
      )
      expect(results.filter((result) => result.isConsumed)).toHaveLength(1)
      expect(results.find((result) => result.isConsumed)).toMatchObject({ pkceVerifier: null })
    } finally {
      await Promise.all(instances.map((instance) => instance.pool.end()))
    }
  })
})
