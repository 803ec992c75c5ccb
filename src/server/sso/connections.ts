/**
 * Server-only: an organization's SSO connections (SPEC §6), independent of how they are edited
 * (console procedures, CLI) and of the sign-in flow that reads them.
 *
 * - The OIDC client secret is write-only: sealed with the secret box under its own purpose with the
 *   connection id as associated data (a ciphertext copied into another connection's row does not
 *   open), never selected by the list/get functions, never audited. Only `openOidcClientSecret`
 *   opens it, for the token request.
 * - Every change bumps `updated_at`, which also versions the per-instance discovery cache.
 * - Issuer URLs go through `checkIssuerUrl` when saved, so an admin cannot point Gatehouse at its
 *   own network (ADR 014).
 * - Disabling or deleting a connection revokes the sessions it created.
 */
import { and, asc, eq, getTableColumns } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { ssoConnections, type OidcTokenAuthMethod, type SamlNameIdFormat, type SsoConnection, type SsoConnectionStatus } from '../../../db/schema'
import { isRole, roleRank, type Role } from '../../lib/roles'
import { invalidateConnectionSessions } from '../auth/session'
import { decryptSecret, encryptSecret, getSecretBoxKeyRing } from '../crypto/secret-box'
import type { Database } from '../db/client'
import { generateId } from '../ids'
import { recordActorAuditEvent, type AuditActor } from './audit-actor'
import { checkIssuerUrl, createGuardedFetch, OutboundRequestError, type OutboundPolicy } from './outbound-fetch'
import { SAML_NAMEID_FORMATS } from './saml/saml-attributes'
import { checkSamlCertificatesForSave, describeSamlCertificate, SamlCertificateError, type SamlCertificateInfo } from './saml/saml-certificates'
import { importSamlIdpMetadata, MAX_IDP_METADATA_BYTES, SamlMetadataError } from './saml/saml-metadata'

/** HKDF purpose of the key sealing OIDC client secrets (no other secret shares it). */
export const SSO_CLIENT_SECRET_PURPOSE = 'sso-client-secret'

export const DEFAULT_OIDC_SCOPES = 'openid email profile'
const MAX_CLIENT_SECRET_BYTES = 512

/** A connection as it may leave the server: no ciphertext, only whether a secret is set. */
export type SsoConnectionView = Omit<SsoConnection, 'oidcClientSecretSealed' | 'oidcClientSecretKeyId'> & { hasClientSecret: boolean }

export type ConnectionDeps = {
  db: Database
  now: Date
  actor: AuditActor
}

export type ConnectionErrorReason =
  | 'not_found'
  | 'invalid_input'
  | 'issuer_refused'
  | 'role_exceeds_editor'
  | 'invalid_transition'
  /** SAML: the metadata URL was refused or could not be fetched, or the document was refused. */
  | 'metadata_refused'
  /** SAML: the metadata lists several IdPs and none was chosen (`entityIds` names them). */
  | 'choose_entity'
  /** SAML: a certificate is malformed, expired, weak, or one too many. */
  | 'certificate_refused'

export class ConnectionError extends Error {
  override name = 'ConnectionError'
  constructor(
    readonly reason: ConnectionErrorReason,
    message: string,
    /** For `choose_entity`: the entity IDs the admin picks from. */
    readonly entityIds: string[] = [],
  ) {
    super(message)
  }
}

export type OidcConnectionInput = {
  organizationId: string
  displayName: string
  issuer: string
  clientId: string
  clientSecret: string
  tokenAuthMethod?: OidcTokenAuthMethod
  scopes?: string
  emailClaim?: string
  nameClaim?: string
  groupsClaim?: string
  groupRoleMap?: Record<string, string>
  defaultRole?: string
  mfaAmrValues?: string[]
  mfaAcrValues?: string[]
  /** `enabled` to switch it on at once (CLI `--enable`); `draft` otherwise. */
  status?: 'draft' | 'enabled'
}

const { oidcClientSecretSealed: _sealed, oidcClientSecretKeyId: _keyId, ...VIEW_COLUMNS } = getTableColumns(ssoConnections)

function toView(row: Omit<SsoConnection, 'oidcClientSecretSealed' | 'oidcClientSecretKeyId'>, hasClientSecret: boolean): SsoConnectionView {
  return { ...row, hasClientSecret }
}

const CLAIM_NAME_PATTERN = /^[A-Za-z0-9_.:/-]{1,64}$/

/**
 * Validates a role mapping: every role exists, and (when an editor's role is given, as in the
 * console) none exceeds the editor's own role, the rule of `admin.users.setRole`: an admin cannot
 * mint owners through an IdP group.
 */
export function checkRoleMapping(mapping: { groupRoleMap: Record<string, string>; defaultRole: string }, editorRole?: Role): void {
  const roles = [mapping.defaultRole, ...Object.values(mapping.groupRoleMap)]
  const unknown = roles.find((role) => !isRole(role))
  if (unknown !== undefined) throw new ConnectionError('invalid_input', `unknown role "${unknown}" (roles: ${appConfig.roles.join(', ')})`)
  for (const group of Object.keys(mapping.groupRoleMap)) {
    if (group.length === 0 || group.length > 255) throw new ConnectionError('invalid_input', 'group names have 1 to 255 characters')
  }
  if (editorRole !== undefined && roles.some((role) => roleRank(role) > roleRank(editorRole))) {
    throw new ConnectionError('role_exceeds_editor', `a mapped role may not exceed your own role (${editorRole})`)
  }
}

function sealClientSecret(connectionId: string, clientSecret: string): { oidcClientSecretSealed: string; oidcClientSecretKeyId: string } {
  const bytes = new TextEncoder().encode(clientSecret)
  if (bytes.length === 0 || bytes.length > MAX_CLIENT_SECRET_BYTES) throw new ConnectionError('invalid_input', `the client secret must have 1 to ${MAX_CLIENT_SECRET_BYTES} bytes`)
  const sealed = encryptSecret(getSecretBoxKeyRing(SSO_CLIENT_SECRET_PURPOSE), bytes, connectionId)
  return { oidcClientSecretSealed: sealed.ciphertext, oidcClientSecretKeyId: sealed.keyId }
}

/** The SAML columns of an OIDC connection (all unset; the booleans at their safe defaults). */
const NO_SAML_SETTINGS = {
  samlIdpEntityId: null,
  samlIdpSsoUrl: null,
  samlIdpCertificates: null,
  samlNameIdFormat: null,
  samlEmailAttribute: null,
  samlNameAttribute: null,
  samlGroupsAttribute: null,
  samlAmrAttribute: null,
  samlWantAssertionsSigned: true,
  samlWantAuthnResponseSigned: true,
  samlIsIdpInitiatedAllowed: false,
} satisfies Partial<SsoConnection>

type OidcSettingsInput = Omit<OidcConnectionInput, 'organizationId' | 'clientSecret' | 'status'>

/** Checks and normalises the settings of an OIDC connection (create and update alike). */
async function validateOidcSettings(deps: { outboundPolicy: OutboundPolicy; editorRole?: Role }, input: OidcSettingsInput) {
  const displayName = input.displayName.trim()
  if (!displayName || displayName.length > 120) throw new ConnectionError('invalid_input', 'the display name has 1 to 120 characters')
  if (!input.clientId || input.clientId.length > 255) throw new ConnectionError('invalid_input', 'the client id has 1 to 255 characters')
  if (input.issuer.length > 512) throw new ConnectionError('invalid_input', 'the issuer URL has at most 512 characters')
  const claims = { email: input.emailClaim ?? 'email', name: input.nameClaim ?? 'name', groups: input.groupsClaim ?? 'groups' }
  for (const [which, claim] of Object.entries(claims)) {
    if (!CLAIM_NAME_PATTERN.test(claim)) throw new ConnectionError('invalid_input', `the ${which} claim name is not a valid claim name`)
  }
  const scopes = (input.scopes ?? DEFAULT_OIDC_SCOPES).trim().split(/\s+/)
  if (!scopes.includes('openid') || scopes.some((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(scope))) {
    throw new ConnectionError('invalid_input', 'scopes are space-separated and include "openid"')
  }
  const groupRoleMap = input.groupRoleMap ?? {}
  const defaultRole = input.defaultRole ?? appConfig.defaultRole
  checkRoleMapping({ groupRoleMap, defaultRole }, deps.editorRole)
  try {
    await checkIssuerUrl(input.issuer, deps.outboundPolicy)
  } catch (error) {
    if (error instanceof OutboundRequestError) throw new ConnectionError('issuer_refused', `issuer refused: ${error.message}`)
    throw error
  }
  return { displayName, claims, scopes, groupRoleMap, defaultRole }
}

/**
 * Changes an OIDC connection's settings (and, when given, its client secret). `updated_at` moves,
 * so the discovery cache rediscovers and the connection needs a passing test again before SSO can
 * be enforced. Audits `sso.connection.updated` with the changed setting names (never the secret).
 */
export async function updateOidcConnection(
  deps: ConnectionDeps & { outboundPolicy: OutboundPolicy; editorRole?: Role },
  input: OidcSettingsInput & { connectionId: string; organizationId: string; clientSecret?: string },
): Promise<SsoConnectionView> {
  const connection = await requireSsoConnection(deps.db, input.connectionId, { organizationId: input.organizationId })
  if (connection.protocol !== 'oidc') throw new ConnectionError('invalid_input', 'not an OIDC connection')
  const settings = await validateOidcSettings(deps, input)
  const next = {
    displayName: settings.displayName,
    oidcIssuer: input.issuer,
    oidcClientId: input.clientId,
    oidcScopes: settings.scopes.join(' '),
    oidcTokenAuthMethod: input.tokenAuthMethod ?? connection.oidcTokenAuthMethod ?? 'client_secret_basic',
    oidcEmailClaim: settings.claims.email,
    oidcNameClaim: settings.claims.name,
    oidcGroupsClaim: settings.claims.groups,
    groupRoleMap: settings.groupRoleMap,
    defaultRole: settings.defaultRole,
    mfaAmrValues: input.mfaAmrValues ?? [],
    mfaAcrValues: input.mfaAcrValues ?? [],
  }
  const changed = (Object.keys(next) as Array<keyof typeof next>).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(connection[key]))
  await deps.db
    .update(ssoConnections)
    // A test describes the settings it ran with: a change voids it (the doctor rule, `isTestedSinceLastChange`).
    .set({ ...next, ...(input.clientSecret ? sealClientSecret(connection.id, input.clientSecret) : {}), lastTestResult: null, lastTestedAt: null, updatedAt: deps.now })
    .where(eq(ssoConnections.id, connection.id))
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.updated',
    organizationId: connection.organizationId,
    details: { connectionId: connection.id, displayName: settings.displayName, changedSettings: changed, hasNewClientKey: Boolean(input.clientSecret) },
  })
  return requireSsoConnection(deps.db, connection.id)
}

/**
 * Creates an OIDC connection (draft unless `status: 'enabled'`) after checking the issuer URL with
 * the outbound policy; seals the client secret; audits `sso.connection.created` (without secret).
 */
export async function createOidcConnection(
  deps: ConnectionDeps & { outboundPolicy: OutboundPolicy; editorRole?: Role },
  input: OidcConnectionInput,
): Promise<SsoConnectionView> {
  const { displayName, claims, scopes, groupRoleMap, defaultRole } = await validateOidcSettings(deps, input)

  const id = generateId()
  const row: SsoConnection = {
    id,
    organizationId: input.organizationId,
    protocol: 'oidc',
    displayName,
    status: input.status ?? 'draft',
    oidcIssuer: input.issuer,
    oidcClientId: input.clientId,
    oidcScopes: scopes.join(' '),
    oidcTokenAuthMethod: input.tokenAuthMethod ?? 'client_secret_basic',
    oidcEmailClaim: claims.email,
    oidcNameClaim: claims.name,
    oidcGroupsClaim: claims.groups,
    ...sealClientSecret(id, input.clientSecret),
    ...NO_SAML_SETTINGS,
    groupRoleMap,
    defaultRole,
    mfaAmrValues: input.mfaAmrValues ?? [],
    mfaAcrValues: input.mfaAcrValues ?? [],
    lastTestResult: null,
    lastTestedAt: null,
    createdAt: deps.now,
    updatedAt: deps.now,
  }
  await deps.db.insert(ssoConnections).values(row)
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.created',
    organizationId: row.organizationId,
    // Group names are the IdP's words (a group called "token-admins" is possible), so they are
    // values here, never keys: the details key check would refuse them.
    details: {
      connectionId: id,
      protocol: 'oidc',
      displayName,
      issuer: input.issuer,
      status: row.status,
      defaultRole,
      roleMapping: Object.entries(groupRoleMap).map(([group, role]) => ({ group, role })),
    },
  })
  const { oidcClientSecretSealed, oidcClientSecretKeyId, ...view } = row
  return toView(view, oidcClientSecretSealed !== null && oidcClientSecretKeyId !== null)
}

/** Connections, optionally of one organization, oldest first; never with the sealed secret. */
export async function listSsoConnections(db: Database, filter: { organizationId?: string } = {}): Promise<SsoConnectionView[]> {
  const rows = await db
    .select({ ...VIEW_COLUMNS, sealed: ssoConnections.oidcClientSecretKeyId })
    .from(ssoConnections)
    .where(filter.organizationId ? eq(ssoConnections.organizationId, filter.organizationId) : undefined)
    .orderBy(asc(ssoConnections.createdAt), asc(ssoConnections.id))
  return rows.map(({ sealed, ...row }) => toView(row, sealed !== null))
}

/**
 * One connection by id, or null; scoped to an organization when `organizationId` is given (the
 * console always passes it: a connection of another tenant is "not found", never "forbidden").
 */
export async function getSsoConnection(db: Database, connectionId: string, scope: { organizationId?: string } = {}): Promise<SsoConnectionView | null> {
  const [row] = await db
    .select({ ...VIEW_COLUMNS, sealed: ssoConnections.oidcClientSecretKeyId })
    .from(ssoConnections)
    .where(scope.organizationId ? and(eq(ssoConnections.id, connectionId), eq(ssoConnections.organizationId, scope.organizationId)) : eq(ssoConnections.id, connectionId))
    .limit(1)
  if (!row) return null
  const { sealed, ...view } = row
  return toView(view, sealed !== null)
}

/** Like `getSsoConnection`, but throws `ConnectionError('not_found')`. */
export async function requireSsoConnection(db: Database, connectionId: string, scope: { organizationId?: string } = {}): Promise<SsoConnectionView> {
  const connection = await getSsoConnection(db, connectionId, scope)
  if (!connection) throw new ConnectionError('not_found', 'no such SSO connection')
  return connection
}

/**
 * Opens the connection's OIDC client secret for a token request. Throws `ConnectionError` when
 * none is set and `SecretBoxError` when it does not open (tampered, moved, or the key is gone).
 */
export async function openOidcClientSecret(db: Database, connectionId: string): Promise<string> {
  const [row] = await db
    .select({ sealed: ssoConnections.oidcClientSecretSealed, keyId: ssoConnections.oidcClientSecretKeyId })
    .from(ssoConnections)
    .where(eq(ssoConnections.id, connectionId))
    .limit(1)
  if (!row?.sealed || !row.keyId) throw new ConnectionError('not_found', 'the connection has no client secret')
  const bytes = decryptSecret(getSecretBoxKeyRing(SSO_CLIENT_SECRET_PURPOSE), { keyId: row.keyId, ciphertext: row.sealed }, connectionId)
  return new TextDecoder().decode(bytes)
}

/** Replaces the client secret (rotation at the IdP); audits `sso.connection.updated` without the value. */
export async function replaceOidcClientSecret(deps: ConnectionDeps, input: { connectionId: string; organizationId?: string; clientSecret: string }): Promise<SsoConnectionView> {
  const connection = await requireSsoConnection(deps.db, input.connectionId, { organizationId: input.organizationId })
  await deps.db
    .update(ssoConnections)
    .set({ ...sealClientSecret(connection.id, input.clientSecret), lastTestResult: null, lastTestedAt: null, updatedAt: deps.now })
    .where(eq(ssoConnections.id, connection.id))
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.updated',
    organizationId: connection.organizationId,
    details: { connectionId: connection.id, change: 'client_secret_replaced' },
  })
  return requireSsoConnection(deps.db, connection.id)
}

/**
 * Enables or disables a connection. `draft → enabled ↔ disabled`: a draft cannot be "disabled".
 * Disabling revokes every session the connection created (its users must sign in again, through
 * a password where they have one). Audits `sso.connection.updated`. Idempotent.
 */
export async function setSsoConnectionStatus(
  deps: ConnectionDeps,
  input: { connectionId: string; organizationId?: string; status: Exclude<SsoConnectionStatus, 'draft'>; isDoctorOverride?: boolean },
): Promise<{ connection: SsoConnectionView; revokedSessions: number }> {
  const connection = await requireSsoConnection(deps.db, input.connectionId, { organizationId: input.organizationId })
  if (connection.status === input.status) return { connection, revokedSessions: 0 }
  if (connection.status === 'draft' && input.status === 'disabled') throw new ConnectionError('invalid_transition', 'a draft connection is not enabled yet')
  await deps.db.update(ssoConnections).set({ status: input.status, updatedAt: deps.now }).where(eq(ssoConnections.id, connection.id))
  const revokedSessions = input.status === 'disabled' ? await invalidateConnectionSessions(deps.db, connection.id) : 0
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.updated',
    organizationId: connection.organizationId,
    details: { connectionId: connection.id, change: input.status, previousStatus: connection.status, revokedSessions, ...(input.isDoctorOverride ? { overridesDoctorRule: true } : {}) },
  })
  return { connection: await requireSsoConnection(deps.db, connection.id), revokedSessions }
}

/**
 * Deletes a connection with its identities and flows (foreign keys cascade), un-routes its domains
 * (SET NULL) and revokes its sessions; audits `sso.connection.deleted`. Users it provisioned stay.
 */
export async function deleteSsoConnection(deps: ConnectionDeps, input: { connectionId: string; organizationId?: string }): Promise<{ revokedSessions: number }> {
  const connection = await requireSsoConnection(deps.db, input.connectionId, { organizationId: input.organizationId })
  const revokedSessions = await invalidateConnectionSessions(deps.db, connection.id)
  await deps.db.delete(ssoConnections).where(eq(ssoConnections.id, connection.id))
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.deleted',
    organizationId: connection.organizationId,
    details: { connectionId: connection.id, displayName: connection.displayName, revokedSessions },
  })
  return { revokedSessions }
}

/**
 * Turns IdP-initiated SAML login on or off for a connection (owner only, after re-authentication,
 * in the console). Off by default: an unsolicited response has no flow to bind to a browser, so
 * anyone with a valid response for their own account can sign a victim's browser into it (login
 * CSRF). Audits `sso.connection.updated`; the test result stays (no IdP setting changed).
 */
export async function setSamlIdpInitiated(deps: ConnectionDeps, input: { connectionId: string; organizationId: string; isAllowed: boolean }): Promise<SsoConnectionView> {
  const connection = await requireSsoConnection(deps.db, input.connectionId, { organizationId: input.organizationId })
  if (connection.protocol !== 'saml') throw new ConnectionError('invalid_input', 'not a SAML connection')
  if (connection.samlIsIdpInitiatedAllowed === input.isAllowed) return connection
  await deps.db.update(ssoConnections).set({ samlIsIdpInitiatedAllowed: input.isAllowed }).where(eq(ssoConnections.id, connection.id))
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.updated',
    organizationId: connection.organizationId,
    details: { connectionId: connection.id, displayName: connection.displayName, change: input.isAllowed ? 'idp_initiated_on' : 'idp_initiated_off' },
  })
  return requireSsoConnection(deps.db, connection.id)
}

// ---------------------------------------------------------------------------------------------
// SAML connections (issue 10, items 1 and 5; ADR 015)
// ---------------------------------------------------------------------------------------------

/**
 * Where a SAML connection's IdP settings come from: metadata XML (uploaded or pasted), a metadata
 * URL fetched once through the outbound-fetch guard, or the three values typed by hand.
 */
export type SamlIdpSource =
  | { kind: 'metadata_xml'; xml: string; entityId?: string }
  | { kind: 'metadata_url'; url: string; entityId?: string }
  | { kind: 'manual'; entityId: string; ssoUrl: string; certificates: string[] }

export type SamlSettingsInput = {
  displayName: string
  nameIdFormat?: SamlNameIdFormat
  /** Attribute names; null or absent: the defaults of `saml-attributes.ts`. */
  emailAttribute?: string | null
  nameAttribute?: string | null
  groupsAttribute?: string | null
  amrAttribute?: string | null
  wantAssertionsSigned?: boolean
  wantAuthnResponseSigned?: boolean
  groupRoleMap?: Record<string, string>
  defaultRole?: string
  mfaAmrValues?: string[]
  mfaAcrValues?: string[]
}

export type SamlConnectionInput = SamlSettingsInput & {
  organizationId: string
  idp: SamlIdpSource
  /** `enabled` to switch it on at once (CLI `--enable`); `draft` otherwise. */
  status?: 'draft' | 'enabled'
}

type SamlDeps = ConnectionDeps & { outboundPolicy: OutboundPolicy; editorRole?: Role }

/** The IdP side as it is stored: entity ID, HTTP-Redirect SSO URL, checked certificates. */
type SamlIdpSettings = { entityId: string; ssoUrl: string; certificates: SamlCertificateInfo[]; wantsAuthnRequestsSigned: boolean }

const ATTRIBUTE_NAME_PATTERN = /^[^\s<>"'&]{1,255}$/
const SAML_NAMEID_FORMAT_VALUES: readonly string[] = Object.values(SAML_NAMEID_FORMATS)

/** Fetches IdP metadata through the guard (https or a listed loopback host, capped at 1 MiB, 5 s). */
async function fetchSamlIdpMetadata(url: string, policy: OutboundPolicy): Promise<string> {
  if (url.length > 2048) throw new ConnectionError('invalid_input', 'the metadata URL has at most 2048 characters')
  const fetchGuarded = createGuardedFetch({ ...policy, maxResponseBytes: Math.min(policy.maxResponseBytes ?? MAX_IDP_METADATA_BYTES, MAX_IDP_METADATA_BYTES) })
  let response: Response
  try {
    response = await fetchGuarded(url, { method: 'GET', headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } })
  } catch (error) {
    if (error instanceof OutboundRequestError) throw new ConnectionError('metadata_refused', `metadata URL refused: ${error.message}`)
    throw new ConnectionError('metadata_refused', 'the metadata URL could not be fetched')
  }
  if (response.status !== 200) throw new ConnectionError('metadata_refused', `the metadata URL answered HTTP ${response.status}`)
  return response.text()
}

/**
 * An SSO URL is where browsers are sent with the AuthnRequest, never fetched by the server: https,
 * or plain http only for a loopback host listed in `SSO_ALLOWED_PRIVATE_HOSTS` (development).
 */
function checkSamlSsoUrl(value: string, policy: OutboundPolicy): string {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new ConnectionError('invalid_input', 'the SSO URL is not a URL')
  }
  if (value.length > 2048) throw new ConnectionError('invalid_input', 'the SSO URL has at most 2048 characters')
  if (url.username || url.password) throw new ConnectionError('invalid_input', 'the SSO URL may not carry credentials')
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const isListedLoopback = policy.allowedPrivateHosts.includes(host) && (host === 'localhost' || host === '127.0.0.1' || host === '::1')
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isListedLoopback)) throw new ConnectionError('invalid_input', 'the SSO URL must use https')
  return url.href
}

function checkSamlCertificates(texts: string[], now: Date): SamlCertificateInfo[] {
  try {
    return checkSamlCertificatesForSave(texts, now)
  } catch (error) {
    if (error instanceof SamlCertificateError) throw new ConnectionError('certificate_refused', error.message)
    throw error
  }
}

/** Resolves a source into IdP settings; every refusal is a `ConnectionError`, before anything is written. */
async function resolveSamlIdp(deps: SamlDeps, source: SamlIdpSource): Promise<SamlIdpSettings> {
  if (source.kind === 'manual') {
    const entityId = source.entityId.trim()
    if (!entityId || entityId.length > 512) throw new ConnectionError('invalid_input', 'the IdP entity ID has 1 to 512 characters')
    return { entityId, ssoUrl: checkSamlSsoUrl(source.ssoUrl, deps.outboundPolicy), certificates: checkSamlCertificates(source.certificates, deps.now), wantsAuthnRequestsSigned: false }
  }
  const xml = source.kind === 'metadata_url' ? await fetchSamlIdpMetadata(source.url, deps.outboundPolicy) : source.xml
  let imported: ReturnType<typeof importSamlIdpMetadata>
  try {
    imported = importSamlIdpMetadata(xml, { entityId: source.entityId || undefined })
  } catch (error) {
    if (error instanceof SamlMetadataError) throw new ConnectionError('metadata_refused', `metadata refused: ${error.message}`)
    throw error
  }
  if (imported.status === 'choose_entity') {
    throw new ConnectionError('choose_entity', `the metadata lists several identity providers; choose one: ${imported.entityIds.join(', ')}`, imported.entityIds)
  }
  const { idp } = imported
  if (idp.entityId.length > 512) throw new ConnectionError('invalid_input', 'the IdP entity ID has at most 512 characters')
  return { entityId: idp.entityId, ssoUrl: checkSamlSsoUrl(idp.ssoUrl ?? '', deps.outboundPolicy), certificates: checkSamlCertificates(idp.signingCertificates, deps.now), wantsAuthnRequestsSigned: idp.wantsAuthnRequestsSigned }
}

/** Checks and normalises the settings every SAML save shares (create and update alike). */
function validateSamlSettings(deps: { editorRole?: Role }, input: SamlSettingsInput) {
  const displayName = input.displayName.trim()
  if (!displayName || displayName.length > 120) throw new ConnectionError('invalid_input', 'the display name has 1 to 120 characters')
  const nameIdFormat = input.nameIdFormat ?? SAML_NAMEID_FORMATS.persistent
  if (!SAML_NAMEID_FORMAT_VALUES.includes(nameIdFormat)) throw new ConnectionError('invalid_input', 'unknown NameID format')
  // A transient NameID changes at every login: it can never key an identity (mapSamlProfileToClaims refuses it).
  if (nameIdFormat === SAML_NAMEID_FORMATS.transient) throw new ConnectionError('invalid_input', 'a transient NameID cannot identify a user; use persistent')
  const attributes = { email: input.emailAttribute, name: input.nameAttribute, groups: input.groupsAttribute, amr: input.amrAttribute }
  const attributeNames = Object.fromEntries(
    Object.entries(attributes).map(([which, value]) => {
      const name = value?.trim() || null
      if (name !== null && !ATTRIBUTE_NAME_PATTERN.test(name)) throw new ConnectionError('invalid_input', `the ${which} attribute name is not a valid attribute name`)
      return [which, name]
    }),
  ) as Record<keyof typeof attributes, string | null>
  const wantAssertionsSigned = input.wantAssertionsSigned ?? true
  const wantAuthnResponseSigned = input.wantAuthnResponseSigned ?? true
  // An unsigned response with an unsigned assertion is anyone's assertion (ADR 015: buildSaml refuses it too).
  if (!wantAssertionsSigned && !wantAuthnResponseSigned) throw new ConnectionError('invalid_input', 'the response, the assertion, or both must be signed')
  const groupRoleMap = input.groupRoleMap ?? {}
  const defaultRole = input.defaultRole ?? appConfig.defaultRole
  checkRoleMapping({ groupRoleMap, defaultRole }, deps.editorRole)
  return {
    displayName,
    samlNameIdFormat: nameIdFormat,
    samlEmailAttribute: attributeNames.email,
    samlNameAttribute: attributeNames.name,
    samlGroupsAttribute: attributeNames.groups,
    samlAmrAttribute: attributeNames.amr,
    samlWantAssertionsSigned: wantAssertionsSigned,
    samlWantAuthnResponseSigned: wantAuthnResponseSigned,
    groupRoleMap,
    defaultRole,
    mfaAmrValues: input.mfaAmrValues ?? [],
    mfaAcrValues: input.mfaAcrValues ?? [],
  }
}

/** The OIDC columns of a SAML connection (all unset); test fixtures that insert rows use it too. */
export const NO_OIDC_SETTINGS = {
  oidcIssuer: null,
  oidcClientId: null,
  oidcScopes: null,
  oidcTokenAuthMethod: null,
  oidcEmailClaim: null,
  oidcNameClaim: null,
  oidcGroupsClaim: null,
  oidcClientSecretSealed: null,
  oidcClientSecretKeyId: null,
} satisfies Partial<SsoConnection>

/** Fingerprints as audit values (public, and what an admin compares with the IdP's console). */
function fingerprintsOf(certificates: SamlCertificateInfo[]): string[] {
  return certificates.map((certificate) => certificate.fingerprintSha256)
}

/**
 * Creates a SAML connection (draft unless `status: 'enabled'`) from metadata (XML or URL) or from
 * values typed by hand. Certificates are checked (expired and weak ones refused), the two
 * want-signed flags can never both be false, the role map may not exceed the editor's role, and
 * IdP-initiated login stays off (an owner turns it on elsewhere). Audits `sso.connection.created`.
 */
export async function createSamlConnection(deps: SamlDeps, input: SamlConnectionInput): Promise<SsoConnectionView & { wantsAuthnRequestsSigned: boolean }> {
  const settings = validateSamlSettings(deps, input)
  const idp = await resolveSamlIdp(deps, input.idp)
  const id = generateId()
  const row: SsoConnection = {
    id,
    organizationId: input.organizationId,
    protocol: 'saml',
    status: input.status ?? 'draft',
    ...NO_OIDC_SETTINGS,
    ...settings,
    samlIdpEntityId: idp.entityId,
    samlIdpSsoUrl: idp.ssoUrl,
    samlIdpCertificates: idp.certificates.map((certificate) => certificate.pem),
    samlIsIdpInitiatedAllowed: false,
    lastTestResult: null,
    lastTestedAt: null,
    createdAt: deps.now,
    updatedAt: deps.now,
  }
  await deps.db.insert(ssoConnections).values(row)
  await recordActorAuditEvent(deps.db, deps.actor, {
    type: 'sso.connection.created',
    organizationId: row.organizationId,
    details: {
      connectionId: id,
      protocol: 'saml',
      displayName: settings.displayName,
      idpEntityId: idp.entityId,
      source: input.idp.kind,
      ...(input.idp.kind === 'metadata_url' ? { metadataUrl: input.idp.url } : {}),
      certificateFingerprints: fingerprintsOf(idp.certificates),
      status: row.status,
      defaultRole: settings.defaultRole,
      roleMapping: Object.entries(settings.groupRoleMap).map(([group, role]) => ({ group, role })),
    },
  })
  const { oidcClientSecretSealed: _s, oidcClientSecretKeyId: _k, ...view } = row
  return { ...toView(view, false), wantsAuthnRequestsSigned: idp.wantsAuthnRequestsSigned }
}

async function requireSamlConnection(db: Database, connectionId: string, organizationId: string | undefined): Promise<SsoConnectionView> {
  const connection = await requireSsoConnection(db, connectionId, { organizationId })
  if (connection.protocol !== 'saml') throw new ConnectionError('invalid_input', 'not a SAML connection')
  return connection
}

/** Writes a SAML change: the test result is voided (the doctor rule) and `updated_at` moves. */
async function saveSamlChange(deps: ConnectionDeps, connection: SsoConnectionView, next: Partial<SsoConnectionView>, details: Record<string, unknown>): Promise<SsoConnectionView> {
  await deps.db
    .update(ssoConnections)
    .set({ ...next, lastTestResult: null, lastTestedAt: null, updatedAt: deps.now })
    .where(eq(ssoConnections.id, connection.id))
  await recordActorAuditEvent(deps.db, deps.actor, { type: 'sso.connection.updated', organizationId: connection.organizationId, details: { connectionId: connection.id, ...details } })
  return requireSsoConnection(deps.db, connection.id)
}

/**
 * Changes a SAML connection's settings and, when `idp` is given, re-imports or replaces its IdP
 * side (entity ID, SSO URL, certificates). The connection needs a passing test again. Audits
 * `sso.connection.updated` with the changed setting names.
 */
export async function updateSamlConnection(
  deps: SamlDeps,
  input: SamlSettingsInput & { connectionId: string; organizationId?: string; idp?: SamlIdpSource },
): Promise<SsoConnectionView> {
  const connection = await requireSamlConnection(deps.db, input.connectionId, input.organizationId)
  const settings = validateSamlSettings(deps, input)
  const idp = input.idp ? await resolveSamlIdp(deps, input.idp) : null
  const next: Partial<SsoConnectionView> = {
    ...settings,
    ...(idp ? { samlIdpEntityId: idp.entityId, samlIdpSsoUrl: idp.ssoUrl, samlIdpCertificates: idp.certificates.map((certificate) => certificate.pem) } : {}),
  }
  const changed = (Object.keys(next) as Array<keyof SsoConnectionView>).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(connection[key]))
  return saveSamlChange(deps, connection, next, {
    displayName: settings.displayName,
    changedSettings: changed,
    ...(idp ? { source: input.idp!.kind, certificateFingerprints: fingerprintsOf(idp.certificates) } : {}),
  })
}

/**
 * Adds an IdP signing certificate for rotation: the old and the new one are both accepted until
 * the old one is removed. Refuses an expired or weak certificate. Idempotent for a certificate
 * already listed (same fingerprint).
 */
export async function addSamlCertificate(deps: ConnectionDeps, input: { connectionId: string; organizationId?: string; certificate: string }): Promise<SsoConnectionView> {
  const connection = await requireSamlConnection(deps.db, input.connectionId, input.organizationId)
  const [added] = checkSamlCertificates([input.certificate], deps.now)
  const certificates = checkSamlCertificates([...(connection.samlIdpCertificates ?? []), added!.pem], deps.now)
  if (certificates.length === (connection.samlIdpCertificates ?? []).length) return connection
  return saveSamlChange(deps, connection, { samlIdpCertificates: certificates.map((certificate) => certificate.pem) }, { change: 'certificate_added', certificateFingerprint: added!.fingerprintSha256 })
}

/** Removes an IdP signing certificate (rotation done, or a compromised key); the last one cannot go. */
export async function removeSamlCertificate(deps: ConnectionDeps, input: { connectionId: string; organizationId?: string; fingerprintSha256: string }): Promise<SsoConnectionView> {
  const connection = await requireSamlConnection(deps.db, input.connectionId, input.organizationId)
  const listed = connection.samlIdpCertificates ?? []
  const fingerprintOf = (pem: string) => describeSamlCertificateSafely(pem, deps.now)?.fingerprintSha256
  const remaining = listed.filter((pem) => fingerprintOf(pem) !== input.fingerprintSha256.toUpperCase())
  if (remaining.length === listed.length) throw new ConnectionError('not_found', 'no such certificate on this connection')
  if (remaining.length === 0) throw new ConnectionError('invalid_input', 'a SAML connection keeps at least one certificate; add the new one first')
  return saveSamlChange(deps, connection, { samlIdpCertificates: remaining }, { change: 'certificate_removed', certificateFingerprint: input.fingerprintSha256.toUpperCase() })
}

/** A stored certificate described for display; null if it no longer parses (never thrown at readers). */
export function describeSamlCertificateSafely(pem: string, now: Date): SamlCertificateInfo | null {
  try {
    return describeSamlCertificate(pem, now)
  } catch {
    return null
  }
}
