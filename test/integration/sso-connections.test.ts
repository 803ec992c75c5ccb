/**
 * The SSO connection store and the rest of the SSO model, against the real database.
 *
 * Attacks covered: reading a client secret back through any list/get (it is write-only); moving a
 * sealed secret into another connection's row (row-swap: the associated data is the connection id,
 * OWASP ASVS 6.2.1); an admin minting owners through an IdP group map (vertical escalation, the
 * rule of `admin.users.setRole`); a disabled or deleted connection whose sessions live on.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { sessions, ssoConnections, ssoIdentities, ssoLoginFlows } from '../../db/schema'
import { validateSessionToken } from '../../src/server/auth/session'
import { now } from '../../src/server/clock'
import { SecretBoxError } from '../../src/server/crypto/secret-box'
import { getDb } from '../../src/server/db/client'
import { generateId } from '../../src/server/ids'
import {
  ConnectionError,
  createOidcConnection,
  deleteSsoConnection,
  getSsoConnection,
  listSsoConnections,
  openOidcClientSecret,
  replaceOidcClientSecret,
  setSsoConnectionStatus,
} from '../../src/server/sso/connections'
import { addOrganizationDomain, getVerifiedDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { purgeExpiredSsoLoginFlows } from '../../src/server/sso/login-flows'
import { createTestOrganization, createTestUser, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { createTestOidcConnection, OPERATOR_ACTOR, TEST_ISSUER } from '../support/sso-fixtures'

function deps() {
  return { db: getDb(), now: now(), actor: OPERATOR_ACTOR }
}

describe('client secrets', () => {
  it('are sealed at rest, never listed, and open only for their own connection', async () => {
    const organization = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id, { clientSecret: 'the-real-client-secret' })
    expect(connection).not.toHaveProperty('oidcClientSecretSealed')
    expect(connection).not.toHaveProperty('oidcClientSecretKeyId')
    expect(connection.hasClientSecret).toBe(true)
    for (const view of [await getSsoConnection(getDb(), connection.id), ...(await listSsoConnections(getDb(), { organizationId: organization.id }))]) {
      expect(Object.keys(view!)).not.toContain('oidcClientSecretSealed')
      expect(JSON.stringify(view)).not.toContain('the-real-client-secret')
    }
    const [row] = await sql('SELECT * FROM sso_connections WHERE id = ?', [connection.id])
    expect(JSON.stringify(row)).not.toContain('the-real-client-secret')
    expect(await openOidcClientSecret(getDb(), connection.id)).toBe('the-real-client-secret')
  })

  it('copied into another connection\'s row, a sealed secret does not open (row-swap)', async () => {
    const organization = await createTestOrganization()
    const victim = await createTestOidcConnection(organization.id, { clientSecret: 'victim-secret' })
    const attacker = await createTestOidcConnection(organization.id, { clientSecret: 'attacker-secret' })
    const [sealed] = await getDb().select().from(ssoConnections).where(eq(ssoConnections.id, victim.id))
    await getDb()
      .update(ssoConnections)
      .set({ oidcClientSecretSealed: sealed!.oidcClientSecretSealed, oidcClientSecretKeyId: sealed!.oidcClientSecretKeyId })
      .where(eq(ssoConnections.id, attacker.id))
    await expect(openOidcClientSecret(getDb(), attacker.id)).rejects.toBeInstanceOf(SecretBoxError)
  })

  it('can be replaced; the change bumps updated_at and is audited without the value', async () => {
    const organization = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    const later = new Date(now().getTime() + 5000)
    const replaced = await replaceOidcClientSecret({ ...deps(), now: later }, { connectionId: connection.id, clientSecret: 'rotated-secret' })
    expect(replaced.updatedAt.getTime()).toBe(later.getTime())
    expect(await openOidcClientSecret(getDb(), connection.id)).toBe('rotated-secret')
    const events = await sql("SELECT details FROM audit_events WHERE type = 'sso.connection.updated'")
    expect(JSON.stringify(events)).not.toContain('rotated-secret')
  })
})

describe('creating a connection', () => {
  it('refuses an issuer that resolves to a private address unless the host is listed, writing nothing', async () => {
    const organization = await createTestOrganization()
    const before = await tableChecksums()
    const input = { organizationId: organization.id, displayName: 'X', issuer: TEST_ISSUER, clientId: 'x', clientSecret: 'y' }
    await expect(createOidcConnection({ ...deps(), outboundPolicy: { allowedPrivateHosts: [] } }, input)).rejects.toMatchObject({ reason: 'issuer_refused' })
    await expect(
      createOidcConnection({ ...deps(), outboundPolicy: { allowedPrivateHosts: [] } }, { ...input, issuer: 'https://idp.internal.example/' }),
    ).rejects.toMatchObject({ reason: 'issuer_refused' })
    expect(await tableChecksums()).toEqual(before)
  })

  it("refuses a role map or default role above the editor's own role (an admin cannot mint owners via IdP groups)", async () => {
    const organization = await createTestOrganization()
    const policy = { allowedPrivateHosts: ['127.0.0.1'] }
    const input = { organizationId: organization.id, displayName: 'X', issuer: TEST_ISSUER, clientId: 'x', clientSecret: 'y' }
    const before = await tableChecksums()
    await expect(createOidcConnection({ ...deps(), outboundPolicy: policy, editorRole: 'admin' }, { ...input, groupRoleMap: { everyone: 'owner' } })).rejects.toMatchObject({
      reason: 'role_exceeds_editor',
    })
    await expect(createOidcConnection({ ...deps(), outboundPolicy: policy, editorRole: 'admin' }, { ...input, defaultRole: 'owner' })).rejects.toBeInstanceOf(ConnectionError)
    await expect(createOidcConnection({ ...deps(), outboundPolicy: policy }, { ...input, groupRoleMap: { x: 'root' } })).rejects.toMatchObject({ reason: 'invalid_input' })
    await expect(createOidcConnection({ ...deps(), outboundPolicy: policy }, { ...input, scopes: 'email profile' })).rejects.toMatchObject({ reason: 'invalid_input' })
    expect(await tableChecksums()).toEqual(before)
    const created = await createOidcConnection({ ...deps(), outboundPolicy: policy, editorRole: 'admin' }, { ...input, groupRoleMap: { admins: 'admin' } })
    expect(created).toMatchObject({ status: 'draft', defaultRole: 'member', groupRoleMap: { admins: 'admin' }, mfaAmrValues: [], oidcScopes: 'openid email profile' })
  })
})

describe('status and deletion', () => {
  it('disabling revokes the sessions of that connection only; every change bumps updated_at', async () => {
    const organization = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    const other = await createTestOidcConnection(organization.id)
    const { user } = await createTestUser({ organizationId: organization.id })
    const mine = await signedInCaller(user, { metadata: { authMethod: 'oidc', ssoConnectionId: connection.id } })
    const theirs = await signedInCaller(user, { metadata: { authMethod: 'oidc', ssoConnectionId: other.id } })

    const t1 = new Date(now().getTime() + 1000)
    const enabled = await setSsoConnectionStatus({ ...deps(), now: t1 }, { connectionId: connection.id, status: 'enabled' })
    expect(enabled).toMatchObject({ revokedSessions: 0, connection: { status: 'enabled', updatedAt: t1 } })
    const t2 = new Date(now().getTime() + 2000)
    const disabled = await setSsoConnectionStatus({ ...deps(), now: t2 }, { connectionId: connection.id, status: 'disabled' })
    expect(disabled).toMatchObject({ revokedSessions: 1, connection: { status: 'disabled', updatedAt: t2 } })
    expect(await validateSessionToken(getDb(), mine.token, now())).toBeNull()
    expect(await validateSessionToken(getDb(), theirs.token, now())).not.toBeNull()
  })

  it('is scoped: another organization cannot see or change a connection', async () => {
    const organization = await createTestOrganization()
    const intruder = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    expect(await getSsoConnection(getDb(), connection.id, { organizationId: intruder.id })).toBeNull()
    const before = await tableChecksums()
    await expect(setSsoConnectionStatus(deps(), { connectionId: connection.id, organizationId: intruder.id, status: 'enabled' })).rejects.toMatchObject({ reason: 'not_found' })
    await expect(deleteSsoConnection(deps(), { connectionId: connection.id, organizationId: intruder.id })).rejects.toMatchObject({ reason: 'not_found' })
    expect(await tableChecksums()).toEqual(before)
  })

  it('deleting removes identities and flows, un-routes domains and revokes sessions; users stay', async () => {
    const organization = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    const { user } = await createTestUser({ organizationId: organization.id })
    const session = await signedInCaller(user, { metadata: { authMethod: 'oidc', ssoConnectionId: connection.id } })
    await getDb().insert(ssoIdentities).values({ id: generateId(), connectionId: connection.id, subject: 'Subject-1', userId: user.id, createdAt: now(), lastSignInAt: null })
    await getDb().insert(ssoLoginFlows).values(flowRow(connection.id, new Date(now().getTime() + 60_000)))
    await addOrganizationDomain(deps(), { organizationId: organization.id, domain: 'deleted-connection.test' })
    await verifyOrganizationDomainByOperator(deps(), { organizationId: organization.id, domain: 'deleted-connection.test' })
    await setDomainConnection(deps(), { organizationId: organization.id, domain: 'deleted-connection.test', connectionId: connection.id })

    expect(await deleteSsoConnection(deps(), { connectionId: connection.id })).toEqual({ revokedSessions: 1 })
    expect(await getSsoConnection(getDb(), connection.id)).toBeNull()
    expect(await sql('SELECT id FROM sso_identities WHERE connection_id = ?', [connection.id])).toHaveLength(0)
    expect(await sql('SELECT id FROM sso_login_flows WHERE connection_id = ?', [connection.id])).toHaveLength(0)
    expect(await getDb().select().from(sessions).where(eq(sessions.id, session.sessionId))).toHaveLength(0)
    expect((await getVerifiedDomain(getDb(), 'deleted-connection.test'))?.ssoConnectionId).toBeNull()
    expect(await sql('SELECT id FROM users WHERE id = ?', [user.id])).toHaveLength(1)
  })
})

function flowRow(connectionId: string, expiresAt: Date) {
  return {
    id: generateId(),
    stateHash: generateId().padEnd(64, '0'),
    nonce: generateId(),
    pkceVerifierSealed: null,
    pkceVerifierKeyId: null,
    connectionId,
    purpose: 'sign_in' as const,
    redirectTo: '/',
    requestingUserId: null,
    requestingSessionId: null,
    browserBindingHash: '0'.repeat(64),
    createdAt: now(),
    expiresAt,
    consumedAt: null,
  }
}

describe('the rest of the model', () => {
  it('keeps one identity per (connection, subject), compared case-sensitively', async () => {
    const organization = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    const { user } = await createTestUser({ organizationId: organization.id })
    const identity = (subject: string) => ({ id: generateId(), connectionId: connection.id, subject, userId: user.id, createdAt: now(), lastSignInAt: null })
    await getDb().insert(ssoIdentities).values(identity('abc'))
    // `ABC` is another subject (utf8mb4_bin), not a duplicate of `abc`.
    await getDb().insert(ssoIdentities).values(identity('ABC'))
    await expect(getDb().insert(ssoIdentities).values(identity('abc'))).rejects.toThrow()
  })

  it('purges expired flows and keeps live ones', async () => {
    const organization = await createTestOrganization()
    const connection = await createTestOidcConnection(organization.id)
    const expired = flowRow(connection.id, new Date(now().getTime() - 1000))
    const live = flowRow(connection.id, new Date(now().getTime() + 600_000))
    await getDb().insert(ssoLoginFlows).values([expired, live])
    expect(await purgeExpiredSsoLoginFlows(getDb(), now())).toBeGreaterThanOrEqual(1)
    const remaining = (await sql('SELECT id FROM sso_login_flows WHERE connection_id = ?', [connection.id])).map((row) => row.id)
    expect(remaining).toEqual([live.id])
  })

  it('reads mfa_method and idp_authn_context with the session in the one lookup query', async () => {
    const organization = await createTestOrganization({ ssoMfaMode: 'trust_idp_mfa' })
    const connection = await createTestOidcConnection(organization.id)
    const { user } = await createTestUser({ organizationId: organization.id })
    const at = now()
    const { token } = await signedInCaller(user, {
      metadata: { authMethod: 'oidc', ssoConnectionId: connection.id, mfaSatisfiedAt: at, mfaMethod: 'idp', idpAuthnContext: 'amr=pwd,otp' },
    })
    const validated = await validateSessionToken(getDb(), token, now())
    expect(validated!.session).toMatchObject({ authMethod: 'oidc', ssoConnectionId: connection.id, mfaMethod: 'idp', idpAuthnContext: 'amr=pwd,otp' })
    const password = await signedInCaller(user)
    expect((await validateSessionToken(getDb(), password.token, now()))!.session).toMatchObject({ mfaMethod: null, idpAuthnContext: null })
    const [row] = await sql('SELECT sso_mfa_mode FROM organizations WHERE id = ?', [organization.id])
    expect(row!.sso_mfa_mode).toBe('trust_idp_mfa')
  })
})
