/**
 * The SAML hand-off on the flow row (ADR 015): the ACS stores the validated result with a one-time
 * ticket only on a flow its request cache answered; the completion consumes it once, only in the
 * browser that started the flow (login CSRF, swapped ticket URLs), never after expiry, never on
 * another connection's URL.
 */
import { describe, expect, it } from 'vitest'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { createSsoLoginFlow, generateFlowRandomValue } from '../../src/server/sso/login-flows'
import { generateSamlRequestId } from '../../src/server/sso/saml/saml-config'
import { claimsFromValidatedResult, consumeSamlCompletion, storeSamlValidatedResult, toValidatedResult } from '../../src/server/sso/saml/saml-flows'
import { createSamlRequestCache } from '../../src/server/sso/saml/saml-request-cache'
import type { SsoClaims } from '../../src/server/sso/sso-sign-in'
import { createTestOrganization, sql } from '../support/auth-fixtures'
import { createTestSamlConnection } from '../support/saml-fixtures'
import { createSamlTestKeys } from '../support/saml-responses'

const CLAIMS: SsoClaims = { subject: 'nameid-1', email: 'alice@globex.test', isEmailVerifiedByIdp: false, name: 'Alice', groups: ['staff'], amr: undefined, acr: 'urn:x', authTime: new Date('2026-11-30T05:00:00.000Z') }
const deps = () => ({ db: getDb(), now: now() })

async function answeredFlow() {
  const organization = await createTestOrganization()
  const settings = { samlIdpEntityId: 'https://idp.test', samlIdpSsoUrl: 'https://idp.test/sso', samlIdpCertificates: [createSamlTestKeys('flows').certificatePem] }
  const connection = await createTestSamlConnection(organization.id, settings)
  const other = await createTestSamlConnection(organization.id, settings)
  const browserBinding = generateFlowRandomValue()
  const requestId = generateSamlRequestId()
  const { flow } = await createSsoLoginFlow(deps(), { connectionId: connection.id, purpose: 'sign_in', redirectTo: '/settings', browserBinding, hasPkce: false, nonce: requestId })
  const cache = createSamlRequestCache(deps(), connection.id)
  expect(await cache.getAsync(requestId)).not.toBeNull()
  const result = toValidatedResult(CLAIMS, { nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', assertionId: '_a1', isIdpInitiated: false })
  return { connection, other, flow, browserBinding, requestId, result }
}

describe('SAML flow hand-off', () => {
  it('stores the result once with a ticket (only its hash at rest), and the completion gets the claims back', async () => {
    const { connection, flow, browserBinding, result } = await answeredFlow()
    const stored = await storeSamlValidatedResult(deps(), { flowId: flow.id, connectionId: connection.id, result })
    expect(stored?.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await storeSamlValidatedResult(deps(), { flowId: flow.id, connectionId: connection.id, result })).toBeNull()
    const [row] = await sql('SELECT * FROM sso_login_flows WHERE id = ?', [flow.id])
    expect(JSON.stringify(row)).not.toContain(stored!.ticket)

    const completion = await consumeSamlCompletion(deps(), { ticket: stored!.ticket, browserBinding, connectionId: connection.id })
    if (!completion.isConsumed) throw new Error(completion.reason)
    expect(claimsFromValidatedResult(completion.result)).toEqual(CLAIMS)
    expect(completion.flow.redirectTo).toBe('/settings')
  })

  it('a reused ticket is refused', async () => {
    const { connection, flow, browserBinding, result } = await answeredFlow()
    const { ticket } = (await storeSamlValidatedResult(deps(), { flowId: flow.id, connectionId: connection.id, result }))!
    expect((await consumeSamlCompletion(deps(), { ticket, browserBinding, connectionId: connection.id })).isConsumed).toBe(true)
    expect(await consumeSamlCompletion(deps(), { ticket, browserBinding, connectionId: connection.id })).toMatchObject({ isConsumed: false, reason: 'already_consumed' })
  })

  it("a completion without the binding cookie or with another browser's is refused and spends the flow", async () => {
    for (const binding of [null, generateFlowRandomValue()]) {
      const { connection, flow, browserBinding, result } = await answeredFlow()
      const { ticket } = (await storeSamlValidatedResult(deps(), { flowId: flow.id, connectionId: connection.id, result }))!
      expect(await consumeSamlCompletion(deps(), { ticket, browserBinding: binding, connectionId: connection.id })).toMatchObject({ isConsumed: false, reason: 'browser_mismatch' })
      expect(await consumeSamlCompletion(deps(), { ticket, browserBinding, connectionId: connection.id })).toMatchObject({ isConsumed: false, reason: 'already_consumed' })
    }
  })

  it("an expired flow, an unknown ticket and another connection's URL are refused", async () => {
    const { connection, other, flow, browserBinding, result } = await answeredFlow()
    const { ticket } = (await storeSamlValidatedResult(deps(), { flowId: flow.id, connectionId: connection.id, result }))!
    expect(await consumeSamlCompletion(deps(), { ticket: generateFlowRandomValue(), browserBinding, connectionId: connection.id })).toMatchObject({ reason: 'unknown_ticket' })
    expect(await consumeSamlCompletion({ db: getDb(), now: new Date(flow.expiresAt.getTime() + 1) }, { ticket, browserBinding, connectionId: connection.id })).toMatchObject({ reason: 'expired' })
    expect(await consumeSamlCompletion(deps(), { ticket, browserBinding, connectionId: other.id })).toMatchObject({ reason: 'connection_mismatch' })
  })

  it('no result is stored on a flow the request cache did not answer, nor for another connection', async () => {
    const { connection, other, browserBinding, result } = await answeredFlow()
    const { flow: fresh } = await createSsoLoginFlow(deps(), { connectionId: connection.id, purpose: 'sign_in', redirectTo: '/', browserBinding, hasPkce: false, nonce: generateSamlRequestId() })
    expect(await storeSamlValidatedResult(deps(), { flowId: fresh.id, connectionId: connection.id, result })).toBeNull()
    expect(await storeSamlValidatedResult(deps(), { flowId: fresh.id, connectionId: other.id, result })).toBeNull()
  })
})
