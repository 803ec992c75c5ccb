/**
 * The SSO commands of the `gatehouse` CLI as an operator runs them (a separate process on this
 * worker's database). Each happy path, and bad input: exit 2, one line on stderr, nothing written
 * (table checksums unchanged). The client secret never travels on argv (visible in `ps` and shell
 * history): it comes from a file or stdin, and it never shows in output or the audit log.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalSamlIdp, type LocalSamlIdp } from '../../scripts/idp/saml-idp'
import { getDb } from '../../src/server/db/client'
import { openOidcClientSecret } from '../../src/server/sso/connections'
import type { Organization, User } from '../../db/schema'
import { createTestOrganization, createTestUser, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { createSamlTestKeys } from '../support/saml-responses'
import { createMfaTestUser } from '../support/mfa-fixtures'
import { auditEventsOfType, createTestOidcConnection, runCli } from '../support/sso-fixtures'

const CLI_TIMEOUT = { timeout: 60_000 }
const SECRET = 'cli-secret-Value-1234567890'
let secretFile: string
let organization: Organization
let directory: string
let samlIdp: LocalSamlIdp
const samlKeys = createSamlTestKeys('cli-idp')
const rotatedKeys = createSamlTestKeys('cli-idp-rotated')
const weakKeys = createSamlTestKeys('cli-idp-weak', { bits: 1024 })

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'gatehouse-cli-sso-'))
  secretFile = join(directory, 'client-secret')
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 })
  writeFileSync(join(directory, 'empty'), '')
  organization = await createTestOrganization()
  samlIdp = await startLocalSamlIdp({ port: 0, keys: samlKeys, users: [] })
  writeFileSync(join(directory, 'idp-metadata.xml'), await (await fetch(samlIdp.metadataUrl)).text())
  writeFileSync(join(directory, 'idp.crt'), samlKeys.certificatePem)
  writeFileSync(join(directory, 'rotated.crt'), rotatedKeys.certificatePem)
  writeFileSync(join(directory, 'weak.crt'), weakKeys.certificatePem)
  writeFileSync(join(directory, 'garbage.xml'), '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
})

afterAll(async () => {
  await samlIdp?.stop()
})

/** A refused command: exit 2, one line on stderr naming the problem, and no table changed. */
async function expectRefusedWithNothingWritten(args: string[], message: RegExp): Promise<void> {
  const before = await tableChecksums()
  const result = await runCli(args)
  expect(result.stderr.trim().split('\n')).toHaveLength(1)
  expect(result.stderr).toMatch(message)
  expect(result.code).toBe(2)
  expect(await tableChecksums()).toEqual(before)
}

function samlFile(name: string): string {
  return join(directory, name)
}

function addArgs(extra: string[] = []): string[] {
  return ['sso:oidc:add', '--org', organization.slug, '--name', 'Acme IdP', '--issuer', 'http://127.0.0.1:9/oidc', '--client-id', 'gatehouse', '--client-secret-file', secretFile, ...extra]
}

describe('sso:oidc:add, sso:list, sso:enable, sso:disable', () => {
  it('adds a connection with a role map from a secret file, seals the secret, and never prints or audits it', CLI_TIMEOUT, async () => {
    const result = await runCli(addArgs(['--token-auth', 'post', '--groups-claim', 'roles', '--role-map', 'gh-admins=admin,staff=member', '--default-role', 'member', '--enable']))
    expect(result.code).toBe(0)
    const id = /created OIDC connection ([a-z2-7]{26})/.exec(result.stdout)![1]!
    expect(result.stdout).toContain(`/api/auth/oidc/${id}/callback`)
    expect(result.stdout + result.stderr).not.toContain(SECRET)

    const [row] = await sql('SELECT * FROM sso_connections WHERE id = ?', [id])
    expect(row).toMatchObject({ status: 'enabled', oidc_token_auth_method: 'client_secret_post', oidc_groups_claim: 'roles', default_role: 'member' })
    expect(JSON.stringify(row)).not.toContain(SECRET)
    expect(await openOidcClientSecret(getDb(), id)).toBe(SECRET)

    const [event] = (await auditEventsOfType('sso.connection.created')).filter((e) => e.details.connectionId === id)
    expect(event!.details).toMatchObject({ byOperator: true, status: 'enabled', roleMapping: [{ group: 'gh-admins', role: 'admin' }, { group: 'staff', role: 'member' }] })
    expect(JSON.stringify(event)).not.toContain(SECRET)

    const listed = await runCli(['sso:list', '--org', organization.slug])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`${id}\\toidc\\tenabled\\t"Acme IdP"\\thttp://127.0.0.1:9/oidc\\tclient=gatehouse\\tsecret=set`))
    expect(listed.stdout).not.toContain(SECRET)
  })

  it('reads the secret from stdin with --client-secret-file -', CLI_TIMEOUT, async () => {
    const result = await runCli(['sso:oidc:add', '--org', organization.slug, '--name', 'Stdin IdP', '--issuer', 'http://localhost:9', '--client-id', 'x', '--client-secret-file', '-'], {
      stdin: 'from-stdin-secret\n',
    })
    expect(result.code).toBe(0)
    const id = /created OIDC connection ([a-z2-7]{26})/.exec(result.stdout)![1]!
    expect(await openOidcClientSecret(getDb(), id)).toBe('from-stdin-secret')
    const [row] = await sql('SELECT status FROM sso_connections WHERE id = ?', [id])
    expect(row!.status).toBe('draft')
  })

  it('enables a draft, then disabling revokes the sessions it created (and only those)', CLI_TIMEOUT, async () => {
    const connection = await createTestOidcConnection(organization.id)
    const { user } = await createTestUser({ organizationId: organization.id })
    await signedInCaller(user, { metadata: { authMethod: 'oidc', ssoConnectionId: connection.id } })
    await signedInCaller(user, { metadata: { authMethod: 'oidc', ssoConnectionId: connection.id } })
    const passwordSession = await signedInCaller(user)

    const enabled = await runCli(['sso:enable', '--connection', connection.id])
    expect(enabled).toMatchObject({ code: 0, stdout: `enabled ${connection.id} (Test IdP)\n` })

    const disabled = await runCli(['sso:disable', '--connection', connection.id])
    expect(disabled).toMatchObject({ code: 0, stdout: `disabled ${connection.id} (Test IdP); revoked 2 session(s)\n` })
    const sessions = await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])
    expect(sessions.map((row) => row.id)).toEqual([passwordSession.sessionId])
    const events = (await auditEventsOfType('sso.connection.updated')).filter((e) => e.details.connectionId === connection.id)
    expect(events.map((e) => e.details)).toEqual([
      expect.objectContaining({ change: 'enabled', previousStatus: 'draft', byOperator: true }),
      expect.objectContaining({ change: 'disabled', previousStatus: 'enabled', revokedSessions: 2, byOperator: true }),
    ])
  })
})

describe('sso:saml:add, sso:saml:add-cert, sso:list', () => {
  it('adds a SAML connection from the IdP metadata URL (through the outbound guard), prints the SP values, audits byOperator', CLI_TIMEOUT, async () => {
    const result = await runCli(['sso:saml:add', '--org', organization.slug, '--name', 'Globex SAML', '--metadata-url', samlIdp.metadataUrl, '--role-map', 'admins=admin', '--default-role', 'member', '--enable'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const id = /created SAML connection ([a-z2-7]{26})/.exec(result.stdout)![1]!
    expect(result.stdout).toContain(`/api/auth/saml/${id}/metadata`)
    expect(result.stdout).toContain(`ACS URL: `)
    expect(result.stdout).toMatch(/certificate SHA256=[0-9A-F:]{95} subject="CN=test cli-idp"/)
    const [row] = await sql('SELECT * FROM sso_connections WHERE id = ?', [id])
    expect(row).toMatchObject({ protocol: 'saml', status: 'enabled', saml_idp_entity_id: samlIdp.entityId, saml_idp_sso_url: samlIdp.ssoUrl, saml_is_idp_initiated_allowed: 0, oidc_issuer: null })
    const [event] = (await auditEventsOfType('sso.connection.created')).filter((e) => e.details.connectionId === id)
    expect(event!.details).toMatchObject({ byOperator: true, protocol: 'saml', source: 'metadata_url', idpEntityId: samlIdp.entityId, roleMapping: [{ group: 'admins', role: 'admin' }] })

    const listed = await runCli(['sso:list', '--org', organization.slug])
    expect(listed.stdout).toContain([id, 'saml', 'enabled', '"Globex SAML"', samlIdp.entityId, `sso=${samlIdp.ssoUrl}`, 'certificates=1'].join('\t'))
  })

  it('adds one from a metadata file, and one by hand; a second certificate rotates in (both accepted)', CLI_TIMEOUT, async () => {
    const fromFile = await runCli(['sso:saml:add', '--org', organization.slug, '--name', 'From file', '--metadata-file', samlFile('idp-metadata.xml')])
    expect(fromFile.code).toBe(0)
    const byHand = await runCli(['sso:saml:add', '--org', organization.slug, '--name', 'By hand', '--entry-point', 'https://idp.example.com/sso', '--idp-entity-id', 'https://idp.example.com', '--idp-cert-file', samlFile('idp.crt')])
    expect(byHand.code).toBe(0)
    const id = /created SAML connection ([a-z2-7]{26})/.exec(byHand.stdout)![1]!
    const [row] = await sql('SELECT status, saml_idp_entity_id, saml_idp_sso_url FROM sso_connections WHERE id = ?', [id])
    expect(row).toEqual({ status: 'draft', saml_idp_entity_id: 'https://idp.example.com', saml_idp_sso_url: 'https://idp.example.com/sso' })

    const rotated = await runCli(['sso:saml:add-cert', '--connection', id, '--idp-cert-file', samlFile('rotated.crt')])
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toContain('accepts 2 certificate(s)')
    const [after] = await sql('SELECT saml_idp_certificates FROM sso_connections WHERE id = ?', [id])
    const certificates = typeof after!.saml_idp_certificates === 'string' ? JSON.parse(after!.saml_idp_certificates) : after!.saml_idp_certificates
    expect(certificates).toHaveLength(2)
    const [event] = (await auditEventsOfType('sso.connection.updated')).filter((e) => e.details.connectionId === id)
    expect(event!.details).toMatchObject({ change: 'certificate_added', byOperator: true })
  })

  it.each<[string, () => string[], RegExp]>([
    ['no IdP source at all', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X'], /--metadata-file: give exactly one of/],
    ['two IdP sources', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--metadata-file', samlFile('idp-metadata.xml'), '--metadata-url', samlIdp.metadataUrl], /--metadata-file: give exactly one of/],
    ['a manual IdP without its certificate', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--entry-point', 'https://idp.example.com/sso', '--idp-entity-id', 'e'], /--idp-cert-file: required with/],
    ['a metadata file with a DTD', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--metadata-file', samlFile('garbage.xml')], /--metadata-file: metadata refused: metadata with a DTD is refused/],
    ['a metadata URL on a private address', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--metadata-url', 'https://10.0.0.5/metadata'], /--metadata-url: metadata URL refused: .*private address/],
    ['a plain-http SSO URL', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--entry-point', 'http://idp.example.com/sso', '--idp-entity-id', 'e', '--idp-cert-file', samlFile('idp.crt')], /--entry-point: the SSO URL must use https/],
    ['a weak certificate', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--entry-point', 'https://idp.example.com/sso', '--idp-entity-id', 'e', '--idp-cert-file', samlFile('weak.crt')], /--idp-cert-file: RSA keys need at least 2048 bits/],
    ['a missing certificate file', () => ['sso:saml:add-cert', '--connection', 'a'.repeat(26), '--idp-cert-file', '/nonexistent.crt'], /--idp-cert-file: cannot read/],
    ['a certificate for an unknown connection', () => ['sso:saml:add-cert', '--connection', 'a'.repeat(26), '--idp-cert-file', samlFile('idp.crt')], /--connection: no such SSO connection/],
    ['a role map naming an unknown role', () => ['sso:saml:add', '--org', organization.slug, '--name', 'X', '--metadata-file', samlFile('idp-metadata.xml'), '--role-map', 'a=root'], /--role-map: expected group=role pairs/],
  ])('refuses %s: exit 2, one line, nothing written', CLI_TIMEOUT, async (_label, args, message) => {
    await expectRefusedWithNothingWritten(args(), message)
  })

  it('refuses a certificate for an OIDC connection', CLI_TIMEOUT, async () => {
    const connection = await createTestOidcConnection(organization.id)
    const before = await tableChecksums()
    const result = await runCli(['sso:saml:add-cert', '--connection', connection.id, '--idp-cert-file', samlFile('rotated.crt')])
    expect(result).toMatchObject({ code: 2 })
    expect(result.stderr).toMatch(/--connection: not a SAML connection/)
    expect(await tableChecksums()).toEqual(before)
  })
})

describe('user:set-role', () => {
  let member: User

  beforeAll(async () => {
    member = (await createTestUser({ organizationId: organization.id, role: 'member' })).user
  })

  it("gives an SSO-only organization's user a role, audited byOperator", CLI_TIMEOUT, async () => {
    const result = await runCli(['user:set-role', '--email', member.email.toUpperCase(), '--role', 'admin'])
    expect(result).toMatchObject({ code: 0, stdout: `${member.email}: role member → admin\n` })
    const [row] = await sql('SELECT role FROM users WHERE id = ?', [member.id])
    expect(row!.role).toBe('admin')
    const [event] = (await auditEventsOfType('user.role_changed')).filter((e) => e.subjectUserId === member.id)
    expect(event!.details).toEqual({ from: 'member', to: 'admin', byOperator: true })
  })
})

describe('user:reset-mfa', () => {
  it('removes the factor and the recovery codes, signs out every session, audits it as an operator and mails the owner', CLI_TIMEOUT, async () => {
    const { user } = await createMfaTestUser({ organizationId: organization.id })
    await signedInCaller(user, { isMfaSatisfied: true })

    const result = await runCli(['user:reset-mfa', '--email', user.email])

    expect(result).toMatchObject({ code: 0, stdout: `${user.email}: two-factor authentication removed, 1 session(s) signed out\n` })
    expect(await sql('SELECT id FROM totp_credentials WHERE user_id = ?', [user.id])).toHaveLength(0)
    expect(await sql('SELECT id FROM recovery_codes WHERE user_id = ?', [user.id])).toHaveLength(0)
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [user.id])).toHaveLength(0)
    const [event] = (await auditEventsOfType('mfa.reset_by_admin')).filter((e) => e.subjectUserId === user.id)
    expect(event).toMatchObject({ actorUserId: null, details: { sessionsRevoked: 1, byOperator: true } })
    expect(await sql('SELECT subject FROM mail_outbox WHERE to_address = ?', [user.email])).toEqual([expect.objectContaining({ subject: expect.stringContaining('reset two-factor authentication') })])
  })

  it('says so, and writes nothing, for a user without a second factor', CLI_TIMEOUT, async () => {
    const { user } = await createTestUser({ organizationId: organization.id })
    const before = await tableChecksums()
    expect(await runCli(['user:reset-mfa', '--email', user.email])).toMatchObject({ code: 0, stdout: `${user.email} has no second factor\n` })
    expect(await tableChecksums()).toEqual(before)
  })
})

describe('bad input: exit 2, one line, nothing written', () => {
  it.each<[string, () => string[], RegExp]>([
    ['a secret on argv', () => addArgs(['--client-secret', 'x']), /Unknown option '--client-secret'/],
    ['a missing secret file', () => ['sso:oidc:add', '--org', organization.slug, '--name', 'X', '--issuer', 'https://idp.example.com', '--client-id', 'x', '--client-secret-file', '/nonexistent/secret'], /--client-secret-file: cannot read/],
    ['an empty secret file', () => addArgs().map((arg) => (arg === secretFile ? join(secretFile, '..', 'empty') : arg)), /--client-secret-file: the file is empty/],
    ['an issuer on a private address', () => addArgs().map((arg) => (arg === 'http://127.0.0.1:9/oidc' ? 'https://10.0.0.5/oidc' : arg)), /--issuer: issuer refused: 10\.0\.0\.5 resolves to a private address/],
    ['the cloud metadata address as issuer', () => addArgs().map((arg) => (arg === 'http://127.0.0.1:9/oidc' ? 'http://169.254.169.254/latest' : arg)), /--issuer: issuer refused: .*link-local/],
    ['an issuer with a query string', () => addArgs().map((arg) => (arg === 'http://127.0.0.1:9/oidc' ? 'http://127.0.0.1:9/oidc?x=1' : arg)), /--issuer: issuer refused: an issuer URL has no query/],
    ['an unknown token auth method', () => addArgs(['--token-auth', 'private_key_jwt']), /--token-auth: /],
    ['a malformed role map', () => addArgs(['--role-map', 'admins']), /--role-map: expected group=role pairs/],
    ['a role map naming an unknown role', () => addArgs(['--role-map', 'admins=root']), /--role-map: expected group=role pairs/],
    ['an unknown default role', () => addArgs(['--default-role', 'root']), /--default-role: must be one of/],
    ['an unknown organization', () => addArgs().map((arg) => (arg === organization.slug ? 'nope' : arg)), /--org: no organization with slug "nope"/],
    ['sso:enable of an unknown connection', () => ['sso:enable', '--connection', 'a'.repeat(26)], /--connection: no such SSO connection/],
    ['sso:disable of a malformed id', () => ['sso:disable', '--connection', 'x'], /--connection: not a connection id/],
    ['user:set-role to an unknown role', () => ['user:set-role', '--email', 'x@example.test', '--role', 'root'], /--role: must be one of/],
    ['user:set-role of an unknown user', () => ['user:set-role', '--email', 'ghost@example.test', '--role', 'admin'], /--email: no user with this email/],
    ['user:reset-mfa of an unknown user', () => ['user:reset-mfa', '--email', 'ghost@example.test'], /--email: no user with this email/],
    ['org:add-domain with an invalid domain', () => ['org:add-domain', '--org', organization.slug, '--domain', 'https://acme.test/'], /--domain: not a valid domain name/],
    ['org:add-domain with an IP address', () => ['org:add-domain', '--org', organization.slug, '--domain', '192.168.0.1'], /--domain: an IP address is not a domain/],
    ['org:verify-domain of an unclaimed domain', () => ['org:verify-domain', '--org', organization.slug, '--domain', 'unclaimed.test'], /--domain: .* has no claim on unclaimed\.test/],
    ['org:route-domain of an unverified domain', () => ['org:route-domain', '--org', organization.slug, '--domain', 'unclaimed.test', '--connection', 'none'], /--domain: the organization has no claim/],
    ['sso:enforce with neither --break-glass nor --off', () => ['sso:enforce', '--org', organization.slug], /--break-glass: give either --break-glass <email> or --off/],
    ['sso:enforce with both --break-glass and --off', () => ['sso:enforce', '--org', organization.slug, '--break-glass', 'x@example.test', '--off'], /give either --break-glass <email> or --off/],
    ['sso:enforce naming someone outside the organization', () => ['sso:enforce', '--org', organization.slug, '--break-glass', 'ghost@example.test'], /--break-glass: no owner with this email/],
  ])('refuses %s', CLI_TIMEOUT, async (_label, args, message) => {
    await expectRefusedWithNothingWritten(args(), message)
  })

  it('refuses sso:disable of a draft connection', CLI_TIMEOUT, async () => {
    const connection = await createTestOidcConnection(organization.id)
    const before = await tableChecksums()
    const result = await runCli(['sso:disable', '--connection', connection.id])
    expect(result).toMatchObject({ code: 2 })
    expect(result.stderr).toMatch(/a draft connection is not enabled yet/)
    expect(await tableChecksums()).toEqual(before)
  })
})

describe('sso:enforce', () => {
  it('refuses with the first unmet precondition (no tested connection), exit 2, nothing written', CLI_TIMEOUT, async () => {
    const organizationToEnforce = await createTestOrganization()
    const { user: owner } = await createTestUser({ role: 'owner', organizationId: organizationToEnforce.id, isMfaEnabled: true })
    const before = await tableChecksums()
    const result = await runCli(['sso:enforce', '--org', organizationToEnforce.slug, '--break-glass', owner.email])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/successful test sign-in/)
    expect(await tableChecksums()).toEqual(before)
  })

  it('--off makes SSO optional again, audited byOperator', CLI_TIMEOUT, async () => {
    const enforced = await createTestOrganization()
    await sql('UPDATE organizations SET sso_enforced_at = UTC_TIMESTAMP(3) WHERE id = ?', [enforced.id])
    const result = await runCli(['sso:enforce', '--org', enforced.slug, '--off'])
    expect(result.code).toBe(0)
    const [row] = await sql('SELECT sso_enforced_at FROM organizations WHERE id = ?', [enforced.id])
    expect(row!.sso_enforced_at).toBeNull()
    const [event] = (await auditEventsOfType('organization.sso_policy_changed')).filter((e) => e.organizationId === enforced.id)
    expect(event!.details).toMatchObject({ isEnforced: false, byOperator: true })
  })
})
