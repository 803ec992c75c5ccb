/**
 * Server-only: the organization's domains and SSO connections, administered by its own admins
 * (SPEC §6 "self-serve"). Every query is scoped to the caller's organization read from the database;
 * another organization's ids answer NOT_FOUND (BOLA / OWASP API1). Changes that alter who can sign
 * in need a recent re-authentication; the client secret is write-only and never leaves the server.
 */
import { z } from 'zod'
import appConfig from '../../../../app.config'
import type { OrganizationDomain } from '../../../../db/schema'
import { getSsoConnectionChangeRefusal } from '../../../lib/member-permissions'
import type { Role } from '../../../lib/roles'
import { appError } from '../../errors'
import { getOidcRedirectUri } from '../../sso/oidc/oidc-flow'
import {
  addSamlCertificate,
  ConnectionError,
  createOidcConnection,
  createSamlConnection,
  deleteSsoConnection,
  describeSamlCertificateSafely,
  getSsoConnection,
  listSsoConnections,
  removeSamlCertificate,
  setSamlIdpInitiated,
  setSsoConnectionStatus,
  updateOidcConnection,
  updateSamlConnection,
  type SamlIdpSource,
  type SsoConnectionView,
} from '../../sso/connections'
import { SAML_NAMEID_FORMATS } from '../../sso/saml/saml-attributes'
import { MAX_IDP_METADATA_BYTES, getSamlServiceProviderUrls } from '../../sso/saml/saml-metadata'
import {
  addOrganizationDomain,
  DomainError,
  getDomainVerificationRecord,
  getOrganizationDomain,
  listOrganizationDomains,
  removeOrganizationDomain,
  requireDomainName,
  setDomainConnection,
  verifyOrganizationDomainByDns,
} from '../../sso/domains'
import { isTestedSinceLastChange } from '../../sso/connection-doctor'
import { getSsoOutboundPolicy } from '../../sso/outbound-fetch'
import { startSsoLogin } from '../../sso/sso-login'
import { refuseIfEnforcementWouldStrandMembers } from '../../sso/sso-policy'
import { adminProcedure, adminSensitiveProcedure, createTRPCRouter, ownerSensitiveProcedure, type TRPCContext } from '../init'
import { idInputSchema } from '../inputs'

type AdminContext = TRPCContext & { user: { id: string; organizationId: string | null; role: Role } }

/** The caller's organization id; an admin without one has nothing to administer here. */
function requireOrganizationId(ctx: AdminContext): string {
  if (!ctx.user.organizationId) throw appError('NOT_FOUND')
  return ctx.user.organizationId
}

/** The audit actor of a console change: the admin, from this request. */
function actorOf(ctx: AdminContext) {
  return { actorUserId: ctx.user.id, ip: ctx.clientIp, userAgent: ctx.userAgent }
}

/** Store errors become catalog errors with the store's own sentence (never a stack or SQL). */
function toCatalogError(error: unknown): never {
  if (error instanceof DomainError) {
    if (error.reason === 'not_found' || error.reason === 'connection_not_found') throw appError('NOT_FOUND')
    if (error.reason === 'already_claimed') throw appError('ALREADY_EXISTS', error.message)
    throw appError('INVALID_INPUT', error.message)
  }
  if (error instanceof ConnectionError) {
    if (error.reason === 'not_found') throw appError('NOT_FOUND')
    if (error.reason === 'role_exceeds_editor') throw appError('FORBIDDEN', 'A role mapping may not grant a role above your own.')
    if (error.reason === 'choose_entity') throw appError('INVALID_INPUT', `This metadata lists several identity providers. Choose one entity ID: ${error.entityIds.join(', ')}`)
    throw appError('INVALID_INPUT', error.message)
  }
  throw error
}

function toDomainView(domain: OrganizationDomain) {
  return {
    domain: domain.domain,
    isVerified: domain.verifiedAt !== null,
    verifiedAt: domain.verifiedAt?.toISOString() ?? null,
    verifiedBy: domain.verifiedBy,
    record: getDomainVerificationRecord(domain),
    connectionId: domain.ssoConnectionId,
    lastCheckResult: domain.lastCheckResult,
    lastCheckedAt: domain.lastCheckedAt?.toISOString() ?? null,
  }
}

/** What the console shows of a connection: settings, the redirect URI to register, the last test; never the secret. */
function toConnectionView(ctx: TRPCContext, connection: SsoConnectionView) {
  return {
    id: connection.id,
    protocol: connection.protocol,
    displayName: connection.displayName,
    status: connection.status,
    issuer: connection.oidcIssuer,
    clientId: connection.oidcClientId,
    scopes: connection.oidcScopes,
    tokenAuthMethod: connection.oidcTokenAuthMethod,
    emailClaim: connection.oidcEmailClaim,
    nameClaim: connection.oidcNameClaim,
    groupsClaim: connection.oidcGroupsClaim,
    hasClientSecret: connection.hasClientSecret,
    groupRoleMap: connection.groupRoleMap,
    defaultRole: connection.defaultRole,
    mfaAmrValues: connection.mfaAmrValues,
    mfaAcrValues: connection.mfaAcrValues,
    redirectUri: connection.protocol === 'oidc' ? getOidcRedirectUri(ctx.env.appUrl, connection.id) : null,
    saml: connection.protocol === 'saml' ? toSamlView(ctx, connection) : null,
    isIdpInitiatedAllowed: connection.samlIsIdpInitiatedAllowed,
    lastTestResult: connection.lastTestResult,
    lastTestedAt: connection.lastTestedAt?.toISOString() ?? null,
    isTestedSinceLastChange: isTestedSinceLastChange(connection),
    updatedAt: connection.updatedAt.toISOString(),
  }
}

/**
 * The SAML side of a connection: the SP values the admin copies into the IdP, the IdP settings, and
 * each accepted certificate with its SHA-256 fingerprint, subject and expiry (a warning under 30 days).
 */
function toSamlView(ctx: TRPCContext, connection: SsoConnectionView) {
  const sp = getSamlServiceProviderUrls(ctx.env.appUrl, connection.id)
  return {
    spEntityId: sp.entityId,
    acsUrl: sp.acsUrl,
    metadataUrl: sp.metadataUrl,
    idpEntityId: connection.samlIdpEntityId,
    idpSsoUrl: connection.samlIdpSsoUrl,
    nameIdFormat: connection.samlNameIdFormat ?? SAML_NAMEID_FORMATS.persistent,
    emailAttribute: connection.samlEmailAttribute,
    nameAttribute: connection.samlNameAttribute,
    groupsAttribute: connection.samlGroupsAttribute,
    amrAttribute: connection.samlAmrAttribute,
    wantAssertionsSigned: connection.samlWantAssertionsSigned,
    wantAuthnResponseSigned: connection.samlWantAuthnResponseSigned,
    isIdpInitiatedAllowed: connection.samlIsIdpInitiatedAllowed,
    certificates: (connection.samlIdpCertificates ?? []).map((pem) => {
      const info = describeSamlCertificateSafely(pem, ctx.now)
      return info
        ? { fingerprintSha256: info.fingerprintSha256, subject: info.subject, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString(), isExpired: info.isExpired, isExpiringSoon: info.isExpiringSoon }
        : { fingerprintSha256: 'unreadable', subject: '', notBefore: null, notAfter: null, isExpired: true, isExpiringSoon: false }
    }),
  }
}

const domainInputSchema = z.strictObject({ domain: z.string().trim().min(1).max(253) })
const roleSchema = z.enum(appConfig.roles)
const claimListSchema = z.array(z.string().trim().min(1).max(128)).max(20)

const oidcSettingsSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(120),
  issuer: z.string().trim().url().max(512),
  clientId: z.string().trim().min(1).max(255),
  tokenAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  scopes: z.string().trim().max(255).optional(),
  emailClaim: z.string().trim().max(64).optional(),
  nameClaim: z.string().trim().max(64).optional(),
  groupsClaim: z.string().trim().max(64).optional(),
  groupRoleMap: z.record(z.string().trim().min(1).max(128), roleSchema).refine((map) => Object.keys(map).length <= 100, 'At most 100 groups').optional(),
  defaultRole: roleSchema.optional(),
  mfaAmrValues: claimListSchema.optional(),
  mfaAcrValues: claimListSchema.optional(),
})

const certificateTextSchema = z.string().min(1).max(64 * 1024)
const attributeNameSchema = z.string().trim().max(255).nullable().optional()

/** Where the IdP side comes from: pasted or uploaded metadata, a metadata URL, or by hand. */
const samlIdpSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('metadata_xml'), xml: z.string().min(1).max(MAX_IDP_METADATA_BYTES), entityId: z.string().trim().max(512).optional() }),
  z.strictObject({ kind: z.literal('metadata_url'), url: z.string().trim().url().max(2048), entityId: z.string().trim().max(512).optional() }),
  z.strictObject({ kind: z.literal('manual'), entityId: z.string().trim().min(1).max(512), ssoUrl: z.string().trim().url().max(2048), certificates: z.array(certificateTextSchema).min(1).max(5) }),
]) satisfies z.ZodType<SamlIdpSource>

const samlSettingsSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(120),
  nameIdFormat: z.enum([SAML_NAMEID_FORMATS.persistent, SAML_NAMEID_FORMATS.emailAddress, SAML_NAMEID_FORMATS.unspecified]).optional(),
  emailAttribute: attributeNameSchema,
  nameAttribute: attributeNameSchema,
  groupsAttribute: attributeNameSchema,
  amrAttribute: attributeNameSchema,
  wantAssertionsSigned: z.boolean().optional(),
  wantAuthnResponseSigned: z.boolean().optional(),
  groupRoleMap: z.record(z.string().trim().min(1).max(128), roleSchema).refine((map) => Object.keys(map).length <= 100, 'At most 100 groups').optional(),
  defaultRole: roleSchema.optional(),
  mfaAmrValues: claimListSchema.optional(),
  mfaAcrValues: claimListSchema.optional(),
})

const clientSecretSchema = z.string().min(1).max(1024)

/** `organization.domains.*`: claims on email domains, DNS verification and routing to a connection. */
export const organizationDomainsRouter = createTRPCRouter({
  list: adminProcedure.query(async ({ ctx }) => (await listOrganizationDomains(ctx.db, requireOrganizationId(ctx))).map(toDomainView)),

  /** Claims a domain (pending until its TXT record is found); answers the record to publish. */
  add: adminProcedure.input(domainInputSchema).mutation(async ({ ctx, input }) => {
    const organizationId = requireOrganizationId(ctx)
    const domain = await addOrganizationDomain({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { organizationId, domain: input.domain }).catch(toCatalogError)
    return toDomainView(domain)
  }),

  /** Looks the TXT record up now (rate-limited per organization); the outcome is shown and audited. */
  verify: adminProcedure.input(domainInputSchema).mutation(async ({ ctx, input }) => {
    const organizationId = requireOrganizationId(ctx)
    const result = await verifyOrganizationDomainByDns({ db: ctx.db, now: ctx.now, actor: actorOf(ctx), dnsServers: ctx.env.dnsServers }, { organizationId, domain: input.domain }).catch(toCatalogError)
    if (result.outcome === 'rate_limited') {
      ctx.responseHeaders.set('retry-after', String(result.retryAfterSeconds ?? 60))
      throw appError('RATE_LIMITED')
    }
    return { outcome: result.outcome, domain: toDomainView(result.domain) }
  }),

  /**
   * Sends sign-ins for a verified domain to a connection of this organization (or stops it). Moving
   * a domain off a connection the editor may not change is refused like changing it: else an admin
   * could send the owners' domain to an IdP of their own (ADR 014, found by review).
   */
  route: adminSensitiveProcedure.input(z.strictObject({ domain: z.string().trim().min(1).max(253), connectionId: idInputSchema.nullable() })).mutation(async ({ ctx, input }) => {
    const organizationId = requireOrganizationId(ctx)
    await refuseIfDomainRoutedAboveEditor(ctx, input.domain)
    if (input.connectionId) await requireConnectionToChange(ctx, input.connectionId)
    await refuseIfEnforcementWouldStrandMembers(ctx.db, organizationId, { routesDomain: input.domain.toLowerCase(), toConnectionId: input.connectionId })
    const domain = await setDomainConnection({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { organizationId, domain: input.domain, connectionId: input.connectionId }).catch(toCatalogError)
    return toDomainView(domain)
  }),

  /** Removes a claim; a verified domain stops routing to SSO. */
  remove: adminSensitiveProcedure.input(domainInputSchema).mutation(async ({ ctx, input }) => {
    const organizationId = requireOrganizationId(ctx)
    await refuseIfDomainRoutedAboveEditor(ctx, input.domain)
    await refuseIfEnforcementWouldStrandMembers(ctx.db, organizationId, { removesDomain: input.domain.toLowerCase() })
    const wasRemoved = await removeOrganizationDomain({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { organizationId, domain: input.domain }).catch(toCatalogError)
    return { wasRemoved }
  }),
})

async function requireOwnConnection(ctx: AdminContext, connectionId: string): Promise<SsoConnectionView> {
  const connection = await getSsoConnection(ctx.db, connectionId, { organizationId: requireOrganizationId(ctx) })
  if (!connection) throw appError('NOT_FOUND')
  return connection
}

/**
 * The connection, when the editor may change it: one that can sign in accounts above the editor's
 * role (an owner's) is the owners' to change — else an admin could point it at an IdP of their own.
 */
async function requireConnectionToChange(ctx: AdminContext, connectionId: string): Promise<SsoConnectionView> {
  const connection = await requireOwnConnection(ctx, connectionId)
  const refusal = getSsoConnectionChangeRefusal(ctx.user.role, connection)
  if (refusal) throw appError('FORBIDDEN', refusal)
  return connection
}

/** Refuses a change to the routing of a domain whose current connection the editor may not change. */
async function refuseIfDomainRoutedAboveEditor(ctx: AdminContext, domainName: string): Promise<void> {
  let name: string
  try {
    name = requireDomainName(domainName)
  } catch {
    return // Not a domain name: the change itself refuses it.
  }
  const domain = await getOrganizationDomain(ctx.db, requireOrganizationId(ctx), name)
  if (domain?.ssoConnectionId) await requireConnectionToChange(ctx, domain.ssoConnectionId)
}

/** `organization.sso.*`: the organization's identity-provider connections and their doctor. */
export const organizationSsoRouter = createTRPCRouter({
  list: adminProcedure.query(async ({ ctx }) => (await listSsoConnections(ctx.db, { organizationId: requireOrganizationId(ctx) })).map((connection) => toConnectionView(ctx, connection))),

  get: adminProcedure.input(z.strictObject({ connectionId: idInputSchema })).query(async ({ ctx, input }) => toConnectionView(ctx, await requireOwnConnection(ctx, input.connectionId))),

  /** A new OIDC connection (draft). The role map may not exceed the editor's own role. */
  createOidc: adminSensitiveProcedure.input(oidcSettingsSchema.extend({ clientSecret: clientSecretSchema })).mutation(async ({ ctx, input }) => {
    const organizationId = requireOrganizationId(ctx)
    const connection = await createOidcConnection(
      { db: ctx.db, now: ctx.now, actor: actorOf(ctx), outboundPolicy: getSsoOutboundPolicy(), editorRole: ctx.user.role },
      { ...input, organizationId },
    ).catch(toCatalogError)
    return toConnectionView(ctx, connection)
  }),

  /** Changes settings (a new secret only when given); the connection then needs a passing test again. */
  update: adminSensitiveProcedure.input(oidcSettingsSchema.extend({ connectionId: idInputSchema, clientSecret: clientSecretSchema.optional() })).mutation(async ({ ctx, input }) => {
    await requireConnectionToChange(ctx, input.connectionId)
    const organizationId = requireOrganizationId(ctx)
    const connection = await updateOidcConnection(
      { db: ctx.db, now: ctx.now, actor: actorOf(ctx), outboundPolicy: getSsoOutboundPolicy(), editorRole: ctx.user.role },
      { ...input, organizationId },
    ).catch(toCatalogError)
    return toConnectionView(ctx, connection)
  }),

  /** A new SAML connection (draft) from metadata (pasted, uploaded or fetched) or by hand; IdP-initiated login stays off. */
  createSaml: adminSensitiveProcedure.input(samlSettingsSchema.extend({ idp: samlIdpSourceSchema })).mutation(async ({ ctx, input }) => {
    const organizationId = requireOrganizationId(ctx)
    const connection = await createSamlConnection(
      { db: ctx.db, now: ctx.now, actor: actorOf(ctx), outboundPolicy: getSsoOutboundPolicy(), editorRole: ctx.user.role },
      { ...input, organizationId },
    ).catch(toCatalogError)
    return { ...toConnectionView(ctx, connection), wantsAuthnRequestsSigned: connection.wantsAuthnRequestsSigned }
  }),

  /** Changes a SAML connection's settings, and its IdP side when `idp` is given; it then needs a passing test again. */
  updateSaml: adminSensitiveProcedure.input(samlSettingsSchema.extend({ connectionId: idInputSchema, idp: samlIdpSourceSchema.optional() })).mutation(async ({ ctx, input }) => {
    await requireConnectionToChange(ctx, input.connectionId)
    const organizationId = requireOrganizationId(ctx)
    const connection = await updateSamlConnection(
      { db: ctx.db, now: ctx.now, actor: actorOf(ctx), outboundPolicy: getSsoOutboundPolicy(), editorRole: ctx.user.role },
      { ...input, organizationId },
    ).catch(toCatalogError)
    return toConnectionView(ctx, connection)
  }),

  /** Adds an IdP signing certificate (rotation: old and new are both accepted until the old one is removed). */
  addSamlCertificate: adminSensitiveProcedure.input(z.strictObject({ connectionId: idInputSchema, certificate: certificateTextSchema })).mutation(async ({ ctx, input }) => {
    await requireConnectionToChange(ctx, input.connectionId)
    const organizationId = requireOrganizationId(ctx)
    const connection = await addSamlCertificate({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { ...input, organizationId }).catch(toCatalogError)
    return toConnectionView(ctx, connection)
  }),

  /** Removes an IdP signing certificate by fingerprint; the last one stays. */
  removeSamlCertificate: adminSensitiveProcedure
    .input(z.strictObject({ connectionId: idInputSchema, fingerprintSha256: z.string().regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}$/) }))
    .mutation(async ({ ctx, input }) => {
      await requireConnectionToChange(ctx, input.connectionId)
      const organizationId = requireOrganizationId(ctx)
      const connection = await removeSamlCertificate({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { ...input, organizationId }).catch(toCatalogError)
      return toConnectionView(ctx, connection)
    }),

  /**
   * Enables (only after a passing test since the last change: the doctor rule) or disables a
   * connection; disabling signs out every session it created.
   */
  setEnabled: adminSensitiveProcedure.input(z.strictObject({ connectionId: idInputSchema, isEnabled: z.boolean() })).mutation(async ({ ctx, input }) => {
    const connection = await requireConnectionToChange(ctx, input.connectionId)
    if (!input.isEnabled) await refuseIfEnforcementWouldStrandMembers(ctx.db, connection.organizationId, { disablesConnectionId: connection.id })
    if (input.isEnabled && !toConnectionView(ctx, connection).isTestedSinceLastChange) {
      throw appError('FORBIDDEN', 'Run a successful test sign-in with this connection first (after its last change).')
    }
    const result = await setSsoConnectionStatus(
      { db: ctx.db, now: ctx.now, actor: actorOf(ctx) },
      { connectionId: connection.id, organizationId: connection.organizationId, status: input.isEnabled ? 'enabled' : 'disabled' },
    ).catch(toCatalogError)
    return { connection: toConnectionView(ctx, result.connection), revokedSessions: result.revokedSessions }
  }),

  /** Deletes a connection, its identities and routing; signs out its sessions (count audited). */
  delete: adminSensitiveProcedure.input(z.strictObject({ connectionId: idInputSchema })).mutation(async ({ ctx, input }) => {
    const connection = await requireConnectionToChange(ctx, input.connectionId)
    await refuseIfEnforcementWouldStrandMembers(ctx.db, connection.organizationId, { disablesConnectionId: connection.id })
    return deleteSsoConnection({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { connectionId: connection.id, organizationId: connection.organizationId }).catch(toCatalogError)
  }),

  /**
   * Starts the connection doctor: a real login at the IdP through the real callback, bound to this
   * admin's session and browser, that stores what it saw and changes nothing else.
   */
  startTest: adminProcedure.input(z.strictObject({ connectionId: idInputSchema })).mutation(async ({ ctx, input }) => {
    // Its result replaces the connection's last one (what enabling and enforcement rely on): the
    // same authority as changing the connection.
    const connection = await requireConnectionToChange(ctx, input.connectionId)
    await ctx.enforcePerIpRateLimit('ssoStartPerIp')
    const url = await startSsoLogin(ctx, connection, { purpose: 'test', redirect: `/admin/sso/${connection.id}`, requestingUserId: ctx.user.id, requestingSessionId: ctx.session.id })
    return { url }
  }),

  /**
   * IdP-initiated SAML login for one connection (owner only, sensitive, audited). Off by default:
   * it allows login CSRF, which the console explains next to the switch.
   */
  setIdpInitiated: ownerSensitiveProcedure.input(z.strictObject({ connectionId: idInputSchema, isAllowed: z.boolean() })).mutation(async ({ ctx, input }) => {
    const connection = await requireOwnConnection(ctx, input.connectionId)
    const updated = await setSamlIdpInitiated({ db: ctx.db, now: ctx.now, actor: actorOf(ctx) }, { connectionId: connection.id, organizationId: connection.organizationId, isAllowed: input.isAllowed }).catch(toCatalogError)
    return toConnectionView(ctx, updated)
  }),

  /** The doctor's latest result for a connection. */
  getTestResult: adminProcedure.input(z.strictObject({ connectionId: idInputSchema })).query(async ({ ctx, input }) => {
    const connection = await requireOwnConnection(ctx, input.connectionId)
    return { result: connection.lastTestResult, testedAt: connection.lastTestedAt?.toISOString() ?? null, isTestedSinceLastChange: toConnectionView(ctx, connection).isTestedSinceLastChange }
  }),
})
