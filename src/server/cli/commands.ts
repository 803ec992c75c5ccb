/** Server-only: the CLI's commands, each a flag spec, a zod schema and a run function. */
import { readFileSync } from 'node:fs'
import { eq } from 'drizzle-orm'
import { TRPCError } from '@trpc/server'
import { z } from 'zod'
import appConfig from '../../../app.config'
import { users } from '../../../db/schema'
import { recordAuditEvent, verifyAuditChain } from '../audit/audit-log'
import { hashPassword } from '../auth/password'
import { checkPasswordPolicy } from '../auth/password-policy'
import { disableTotp } from '../auth/mfa'
import { invalidateUserSessions } from '../auth/session'
import { notifySecurityEvent } from '../mail/security-notifications'
import { getDb } from '../db/client'
import { migrateDatabase } from '../db/migrate'
import { resolveDatabaseUrl } from '../db/resolve-database'
import { getServerEnv, resetServerEnvForTests } from '../env'
import { now } from '../clock'
import { addSamlCertificate, ConnectionError, createOidcConnection, createSamlConnection, describeSamlCertificateSafely, listSsoConnections, requireSsoConnection, setSsoConnectionStatus, type SamlIdpSource } from '../sso/connections'
import { getSamlServiceProviderUrls, MAX_IDP_METADATA_BYTES } from '../sso/saml/saml-metadata'
import {
  addOrganizationDomain,
  DomainError,
  getDomainVerificationRecord,
  getOrganizationDomain,
  getVerifiedDomain,
  requireDomainName,
  setDomainConnection,
  verifyOrganizationDomainByDns,
  verifyOrganizationDomainByOperator,
} from '../sso/domains'
import { getOidcRedirectUri } from '../sso/oidc/oidc-flow'
import { getSsoOutboundPolicy } from '../sso/outbound-fetch'
import { setSsoPolicy } from '../sso/sso-policy'
import { emailSchema } from '../users/email'
import { resetMemberMfa, setMemberRole } from '../users/member-changes'
import { createOrganization, createUser, getOrganizationBySlug, getUserByEmail, isDuplicateKeyError, isRole, type Role } from '../users/users'
import { CliUsageError } from './errors'

export type CliContext = { out: (line: string) => void }

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>

type Command = {
  summary: string
  flags: FlagSpec
  run: (flags: Record<string, string | boolean | undefined>, context: CliContext) => Promise<void>
}

/** Parses flags with a strict schema; the first problem becomes the one-line usage error. */
function parseFlags<T extends z.ZodType>(schema: T, flags: unknown): z.infer<T> {
  const result = schema.safeParse(flags)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const flag = issue.path.length ? `--${String(issue.path[0])}` : 'input'
    throw new CliUsageError(`${flag}: ${issue.message}`)
  }
  return result.data
}

/** Resolves the database as SPEC §8 does and exports it for the modules that read the env. */
async function useResolvedDatabase(): Promise<string> {
  const { url } = await resolveDatabaseUrl('gatehouse')
  process.env.DATABASE_URL = url
  resetServerEnvForTests()
  return url
}

const slugSchema = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'lower-case letters, digits and dashes')

const roleSchema = z.string().refine(isRole, `must be one of: ${appConfig.roles.join(', ')}`)

const idSchema = z.string().regex(/^[a-z2-7]{26}$/, 'not a connection id (26 characters, see sso:list)')

/** A domain flag: normalised here, so a bad one fails validation before anything is written. */
const domainSchema = z.string().transform((value, ctx) => {
  try {
    return requireDomainName(value)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'invalid domain' })
    return z.NEVER
  }
})

/** `admins=admin,staff=member` → `{ admins: 'admin', staff: 'member' }`. */
const roleMapSchema = z.string().transform((value, ctx) => {
  const map: Record<string, string> = {}
  for (const pair of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const separator = pair.lastIndexOf('=')
    const group = pair.slice(0, separator).trim()
    const role = pair.slice(separator + 1).trim()
    if (separator <= 0 || !group || !isRole(role)) {
      ctx.addIssue({ code: 'custom', message: `expected group=role pairs with roles among ${appConfig.roles.join(', ')}, got "${pair}"` })
      return z.NEVER
    }
    map[group] = role
  }
  return map
})

/** What the CLI's SSO changes record as their actor. */
const OPERATOR = { byOperator: true } as const

/** The organization with this slug, or a usage error naming the flag. */
async function requireOrganizationBySlug(slug: string) {
  const organization = await getOrganizationBySlug(getDb(), slug)
  if (!organization) throw new CliUsageError(`--org: no organization with slug "${slug}"`)
  return organization
}

/** Reads a secret from a file or stdin (`-`), never from argv (visible in `ps` and shell history). */
function readSecretFile(path: string): string {
  let content: string
  try {
    content = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (error) {
    throw new CliUsageError(`--client-secret-file: cannot read ${path === '-' ? 'stdin' : path} (${(error as { code?: string }).code ?? 'error'})`)
  }
  // A trailing newline from `echo` or an editor is not part of the secret.
  const secret = content.replace(/\r?\n$/, '')
  if (!secret) throw new CliUsageError('--client-secret-file: the file is empty')
  if (/[\r\n]/.test(secret)) throw new CliUsageError('--client-secret-file: the secret must be one line')
  return secret
}

/** Domain and connection errors that mean "bad input" become usage errors (exit 2). */
/** Reads a public file the operator names (metadata, a certificate); a usage error naming the flag otherwise. */
function readPublicFile(flag: string, path: string, maxBytes: number): string {
  let content: Buffer
  try {
    content = readFileSync(path)
  } catch (error) {
    throw new CliUsageError(`--${flag}: cannot read ${path} (${(error as { code?: string }).code ?? 'error'})`)
  }
  if (content.length === 0) throw new CliUsageError(`--${flag}: the file is empty`)
  if (content.length > maxBytes) throw new CliUsageError(`--${flag}: the file is larger than ${maxBytes} bytes`)
  return content.toString('utf8')
}

/** `certificate SHA256=… subject="…" expires 2027-…` (with a warning under 30 days). */
function describeCertificateLine(pem: string): string {
  const info = describeSamlCertificateSafely(pem, now())
  if (!info) return 'certificate (unreadable)'
  const warning = info.isExpired ? ' EXPIRED' : info.isExpiringSoon ? ' (expires within 30 days: rotate it)' : ''
  return `certificate SHA256=${info.fingerprintSha256} subject=${JSON.stringify(info.subject)} expires ${info.notAfter.toISOString()}${warning}`
}

/** A SAML connection's refusals name the flag that caused them. */
function samlFlagOf(error: unknown, source: SamlIdpSource['kind']): string {
  if (!(error instanceof ConnectionError)) return 'input'
  if (error.reason === 'certificate_refused') return source === 'manual' ? '--idp-cert-file' : source === 'metadata_url' ? '--metadata-url' : '--metadata-file'
  if (error.reason === 'metadata_refused' || error.reason === 'choose_entity') return source === 'metadata_url' ? '--metadata-url' : '--metadata-file'
  if (error.reason === 'invalid_input' && /SSO URL/.test(error.message)) return source === 'manual' ? '--entry-point' : '--metadata-file'
  return 'input'
}

const MAX_CERTIFICATE_FILE_BYTES = 64 * 1024

function asUsageError(error: unknown, flag: string): never {
  if (error instanceof DomainError || error instanceof ConnectionError) throw new CliUsageError(`${flag}: ${error.message}`)
  throw error
}

export const COMMANDS = {
  migrate: {
    summary: 'create the database if missing and apply pending migrations',
    flags: {},
    run: async (_flags, { out }) => {
      const url = await useResolvedDatabase()
      await migrateDatabase(url)
      out(`migrated ${new URL(url).pathname.slice(1)}`)
    },
  },
  'org:create': {
    summary: 'create an organization: --name "Acme" --slug acme',
    flags: { name: { type: 'string' }, slug: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ name: z.string().trim().min(1).max(120), slug: slugSchema }), flags)
      await useResolvedDatabase()
      const db = getDb()
      if (await getOrganizationBySlug(db, input.slug)) throw new CliUsageError(`an organization with slug "${input.slug}" exists`)
      const organization = await createOrganization(db, input)
      out(`created organization ${organization.slug} (${organization.id})`)
    },
  },
  'user:create': {
    summary: `create a password user: --email --password --role (${appConfig.roles.join('|')}) [--name] [--org slug]`,
    flags: { email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(
        z.strictObject({
          email: emailSchema,
          password: z.string(),
          role: z.string().refine(isRole, `must be one of: ${appConfig.roles.join(', ')}`),
          name: z.string().trim().min(1).max(120).optional(),
          org: slugSchema.optional(),
        }),
        flags,
      )
      const policy = checkPasswordPolicy(input.password, { hasMfa: false })
      if (!policy.isAcceptable) throw new CliUsageError(`--password: ${policy.reason}`)
      await useResolvedDatabase()
      const db = getDb()
      const organization = input.org ? await getOrganizationBySlug(db, input.org) : null
      if (input.org && !organization) throw new CliUsageError(`--org: no organization with slug "${input.org}"`)
      if (await getUserByEmail(db, input.email)) throw new CliUsageError(`--email: a user with this email exists`)
      try {
        const user = await createUser(db, {
          email: input.email,
          name: input.name ?? input.email.split('@')[0]!,
          passwordHash: await hashPassword(input.password),
          role: input.role as (typeof appConfig.roles)[number],
          organizationId: organization?.id ?? null,
          emailVerifiedAt: new Date(),
        })
        out(`created user ${user.email} (${user.id}) role=${user.role}${organization ? ` org=${organization.slug}` : ''}`)
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new CliUsageError('--email: a user with this email exists')
        throw error
      }
    },
  },
  'audit:verify': {
    summary: 'recompute the audit log hash chain; exit 1 if any event was altered, deleted or reordered',
    flags: {},
    run: async (_flags, { out }) => {
      await useResolvedDatabase()
      const result = await verifyAuditChain(getDb())
      if (result.ok) {
        out(`audit chain intact (${result.count} events)`)
        return
      }
      // The verdict goes to stdout like the intact one, so scripts read one stream; the exit code says 1.
      out(`audit chain BROKEN at event ${result.brokenAtId}: ${result.reason}`)
      throw new Error('the audit chain does not verify')
    },
  },
  'sessions:revoke': {
    summary: "revoke every session of a user: --email (takes effect on the user's next request)",
    flags: { email: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ email: emailSchema }), flags)
      await useResolvedDatabase()
      const db = getDb()
      const user = await getUserByEmail(db, input.email)
      if (!user) throw new CliUsageError('--email: no user with this email')
      const revoked = await invalidateUserSessions(db, user.id)
      await recordAuditEvent(db, { type: 'session.revoked_all', subjectUserId: user.id, organizationId: user.organizationId, details: { count: revoked, byOperator: true } })
      out(`revoked ${revoked} session(s) of ${user.email}`)
    },
  },
  'org:add-domain': {
    summary: 'claim an email domain for an organization: --org slug --domain acme.com [--verified] (operator-verified)',
    flags: { org: { type: 'string' }, domain: { type: 'string' }, verified: { type: 'boolean' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ org: slugSchema, domain: domainSchema, verified: z.boolean().optional() }), flags)
      await useResolvedDatabase()
      const db = getDb()
      const organization = await requireOrganizationBySlug(input.org)
      if (await getOrganizationDomain(db, organization.id, input.domain)) throw new CliUsageError(`--domain: ${input.org} already claims ${input.domain}`)
      // Checked before writing, so a refused --verified leaves nothing behind.
      const verifiedElsewhere = input.verified ? await getVerifiedDomain(db, input.domain) : null
      if (verifiedElsewhere) throw new CliUsageError(`--domain: ${input.domain} is verified by another organization`)
      const deps = { db, now: now(), actor: OPERATOR }
      const claim = await addOrganizationDomain(deps, { organizationId: organization.id, domain: input.domain }).catch((error) => asUsageError(error, '--domain'))
      if (input.verified) {
        const result = await verifyOrganizationDomainByOperator(deps, { organizationId: organization.id, domain: claim.domain })
        if (result.outcome !== 'verified') throw new Error(`${claim.domain} was added but not verified: ${result.outcome}`)
        out(`added ${claim.domain} to ${organization.slug}, verified by operator`)
        return
      }
      const record = getDomainVerificationRecord(claim)
      out(`added ${claim.domain} to ${organization.slug} (pending); publish: ${record.name} ${record.type} "${record.value}"`)
    },
  },
  'org:verify-domain': {
    summary: "check a domain's TXT record now: --org slug --domain acme.com (exit 1 when it does not verify)",
    flags: { org: { type: 'string' }, domain: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ org: slugSchema, domain: domainSchema }), flags)
      await useResolvedDatabase()
      const db = getDb()
      const organization = await requireOrganizationBySlug(input.org)
      if (!(await getOrganizationDomain(db, organization.id, input.domain))) throw new CliUsageError(`--domain: ${input.org} has no claim on ${input.domain}`)
      const result = await verifyOrganizationDomainByDns({ db, now: now(), actor: OPERATOR, dnsServers: getServerEnv().dnsServers }, { organizationId: organization.id, domain: input.domain })
      if (result.outcome === 'verified' || result.outcome === 'already_verified') {
        out(`${input.domain}: verified`)
        return
      }
      const record = getDomainVerificationRecord(result.domain)
      out(`${input.domain}: not verified (${result.outcome}); expected ${record.name} ${record.type} "${record.value}"`)
      throw new Error(`${input.domain} did not verify: ${result.outcome}`)
    },
  },
  'org:route-domain': {
    summary: 'send sign-ins of a verified domain to a connection: --org slug --domain acme.com --connection <id|none>',
    flags: { org: { type: 'string' }, domain: { type: 'string' }, connection: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ org: slugSchema, domain: domainSchema, connection: z.literal('none').or(idSchema) }), flags)
      await useResolvedDatabase()
      const organization = await requireOrganizationBySlug(input.org)
      const connectionId = input.connection === 'none' ? null : input.connection
      await setDomainConnection({ db: getDb(), now: now(), actor: OPERATOR }, { organizationId: organization.id, domain: input.domain, connectionId }).catch((error) =>
        asUsageError(error, '--domain'),
      )
      out(connectionId ? `${input.domain} now signs in through ${connectionId}` : `${input.domain} is no longer routed`)
    },
  },
  'sso:oidc:add': {
    summary:
      'add an OIDC connection: --org --name --issuer --client-id --client-secret-file <path|-> [--token-auth basic|post] [--groups-claim c] [--role-map g=role,…] [--default-role r] [--enable]',
    flags: {
      org: { type: 'string' },
      name: { type: 'string' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      'token-auth': { type: 'string' },
      'groups-claim': { type: 'string' },
      'role-map': { type: 'string' },
      'default-role': { type: 'string' },
      enable: { type: 'boolean' },
    },
    run: async (flags, { out }) => {
      const input = parseFlags(
        z.strictObject({
          org: slugSchema,
          name: z.string().trim().min(1).max(120),
          issuer: z.string().min(1).max(512),
          'client-id': z.string().min(1).max(255),
          'client-secret-file': z.string().min(1),
          'token-auth': z.enum(['basic', 'post']).optional(),
          'groups-claim': z.string().regex(/^[A-Za-z0-9_.:/-]{1,64}$/, 'a claim name').optional(),
          'role-map': roleMapSchema.optional(),
          'default-role': roleSchema.optional(),
          enable: z.boolean().optional(),
        }),
        flags,
      )
      const clientSecret = readSecretFile(input['client-secret-file'])
      await useResolvedDatabase()
      const organization = await requireOrganizationBySlug(input.org)
      const connection = await createOidcConnection(
        { db: getDb(), now: now(), actor: OPERATOR, outboundPolicy: getSsoOutboundPolicy() },
        {
          organizationId: organization.id,
          displayName: input.name,
          issuer: input.issuer,
          clientId: input['client-id'],
          clientSecret,
          tokenAuthMethod: input['token-auth'] === 'post' ? 'client_secret_post' : 'client_secret_basic',
          groupsClaim: input['groups-claim'],
          groupRoleMap: input['role-map'],
          defaultRole: input['default-role'],
          status: input.enable ? 'enabled' : 'draft',
        },
      ).catch((error) => asUsageError(error, error instanceof ConnectionError && error.reason === 'issuer_refused' ? '--issuer' : 'input'))
      out(`created OIDC connection ${connection.id} (${connection.displayName}) for ${organization.slug}, ${connection.status}`)
      out(`redirect URI to register at the IdP: ${getOidcRedirectUri(getServerEnv().appUrl, connection.id)}`)
    },
  },
  'sso:saml:add': {
    summary:
      'add a SAML connection: --org --name (--metadata-file F | --metadata-url U | --entry-point U --idp-entity-id E --idp-cert-file F) [--entity-id E (to choose in multi-IdP metadata)] [--role-map g=role,…] [--default-role r] [--enable]',
    flags: {
      org: { type: 'string' },
      name: { type: 'string' },
      'metadata-file': { type: 'string' },
      'metadata-url': { type: 'string' },
      'entity-id': { type: 'string' },
      'entry-point': { type: 'string' },
      'idp-entity-id': { type: 'string' },
      'idp-cert-file': { type: 'string' },
      'role-map': { type: 'string' },
      'default-role': { type: 'string' },
      enable: { type: 'boolean' },
    },
    run: async (flags, { out }) => {
      const input = parseFlags(
        z
          .strictObject({
            org: slugSchema,
            name: z.string().trim().min(1).max(120),
            'metadata-file': z.string().min(1).optional(),
            'metadata-url': z.string().min(1).max(2048).optional(),
            'entity-id': z.string().min(1).max(512).optional(),
            'entry-point': z.string().min(1).max(2048).optional(),
            'idp-entity-id': z.string().min(1).max(512).optional(),
            'idp-cert-file': z.string().min(1).optional(),
            'role-map': roleMapSchema.optional(),
            'default-role': roleSchema.optional(),
            enable: z.boolean().optional(),
          })
          .superRefine((value, ctx) => {
            const manual = ['entry-point', 'idp-entity-id', 'idp-cert-file'] as const
            const sources = [value['metadata-file'] !== undefined, value['metadata-url'] !== undefined, manual.some((flag) => value[flag] !== undefined)].filter(Boolean).length
            if (sources !== 1) {
              ctx.addIssue({ code: 'custom', path: ['metadata-file'], message: 'give exactly one of --metadata-file, --metadata-url, or --entry-point with --idp-entity-id and --idp-cert-file' })
              return
            }
            const missing = manual.find((flag) => value[flag] === undefined)
            if (value['entry-point'] !== undefined || value['idp-entity-id'] !== undefined || value['idp-cert-file'] !== undefined) {
              if (missing) ctx.addIssue({ code: 'custom', path: [missing], message: 'required with --entry-point, --idp-entity-id and --idp-cert-file' })
              if (value['entity-id'] !== undefined) ctx.addIssue({ code: 'custom', path: ['entity-id'], message: 'chooses an IdP in metadata; use --idp-entity-id by hand' })
            }
          }),
        flags,
      )
      const idp: SamlIdpSource = input['metadata-file']
        ? { kind: 'metadata_xml', xml: readPublicFile('metadata-file', input['metadata-file'], MAX_IDP_METADATA_BYTES), entityId: input['entity-id'] }
        : input['metadata-url']
          ? { kind: 'metadata_url', url: input['metadata-url'], entityId: input['entity-id'] }
          : { kind: 'manual', entityId: input['idp-entity-id']!, ssoUrl: input['entry-point']!, certificates: [readPublicFile('idp-cert-file', input['idp-cert-file']!, MAX_CERTIFICATE_FILE_BYTES)] }
      await useResolvedDatabase()
      const organization = await requireOrganizationBySlug(input.org)
      const connection = await createSamlConnection(
        { db: getDb(), now: now(), actor: OPERATOR, outboundPolicy: getSsoOutboundPolicy() },
        { organizationId: organization.id, displayName: input.name, idp, groupRoleMap: input['role-map'], defaultRole: input['default-role'], status: input.enable ? 'enabled' : 'draft' },
      ).catch((error) => asUsageError(error, samlFlagOf(error, idp.kind)))
      const urls = getSamlServiceProviderUrls(getServerEnv().appUrl, connection.id)
      out(`created SAML connection ${connection.id} (${connection.displayName}) for ${organization.slug}, ${connection.status}`)
      out(`IdP: ${connection.samlIdpEntityId} → ${connection.samlIdpSsoUrl}`)
      out(`SP entity ID and metadata URL: ${urls.metadataUrl}`)
      out(`ACS URL: ${urls.acsUrl}`)
      for (const pem of connection.samlIdpCertificates ?? []) out(describeCertificateLine(pem))
      if (connection.wantsAuthnRequestsSigned) out('warning: the IdP asks for signed AuthnRequests, which Gatehouse does not send; relax that setting at the IdP')
    },
  },
  'sso:saml:add-cert': {
    summary: 'add an IdP signing certificate to a SAML connection (rotation): --connection <id> --idp-cert-file F',
    flags: { connection: { type: 'string' }, 'idp-cert-file': { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ connection: idSchema, 'idp-cert-file': z.string().min(1) }), flags)
      const certificate = readPublicFile('idp-cert-file', input['idp-cert-file'], MAX_CERTIFICATE_FILE_BYTES)
      await useResolvedDatabase()
      const connection = await addSamlCertificate({ db: getDb(), now: now(), actor: OPERATOR }, { connectionId: input.connection, certificate }).catch((error) =>
        asUsageError(error, error instanceof ConnectionError && error.reason === 'certificate_refused' ? '--idp-cert-file' : '--connection'),
      )
      out(`${connection.id} (${connection.displayName}) accepts ${connection.samlIdpCertificates?.length ?? 0} certificate(s):`)
      for (const pem of connection.samlIdpCertificates ?? []) out(describeCertificateLine(pem))
    },
  },
  'sso:list': {
    summary: 'list SSO connections (never their secrets): [--org slug]',
    flags: { org: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ org: slugSchema.optional() }), flags)
      await useResolvedDatabase()
      const organization = input.org ? await requireOrganizationBySlug(input.org) : null
      const connections = await listSsoConnections(getDb(), { organizationId: organization?.id })
      if (connections.length === 0) out('no SSO connections')
      for (const connection of connections) {
        if (connection.protocol === 'saml') {
          out([connection.id, 'saml', connection.status, JSON.stringify(connection.displayName), connection.samlIdpEntityId ?? '-', `sso=${connection.samlIdpSsoUrl ?? '-'}`, `certificates=${connection.samlIdpCertificates?.length ?? 0}`].join('\t'))
          continue
        }
        out(
          [connection.id, connection.protocol, connection.status, JSON.stringify(connection.displayName), connection.oidcIssuer ?? '-', `client=${connection.oidcClientId ?? '-'}`, `secret=${connection.hasClientSecret ? 'set' : 'none'}`].join('\t'),
        )
      }
    },
  },
  'sso:enable': {
    summary: 'enable an SSO connection: --connection <id>',
    flags: { connection: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ connection: idSchema }), flags)
      await useResolvedDatabase()
      await requireSsoConnection(getDb(), input.connection).catch((error) => asUsageError(error, '--connection'))
      // The console enables a connection only after a passing test; the operator may override that
      // rule (a connection tested elsewhere, a recovery), and the audit event says so.
      const { connection } = await setSsoConnectionStatus({ db: getDb(), now: now(), actor: OPERATOR }, { connectionId: input.connection, status: 'enabled', isDoctorOverride: true })
      out(`enabled ${connection.id} (${connection.displayName})`)
    },
  },
  'sso:disable': {
    summary: "disable an SSO connection and revoke the sessions it created: --connection <id>",
    flags: { connection: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ connection: idSchema }), flags)
      await useResolvedDatabase()
      const existing = await requireSsoConnection(getDb(), input.connection).catch((error) => asUsageError(error, '--connection'))
      if (existing.status === 'draft') throw new CliUsageError('--connection: a draft connection is not enabled yet')
      const { connection, revokedSessions } = await setSsoConnectionStatus({ db: getDb(), now: now(), actor: OPERATOR }, { connectionId: input.connection, status: 'disabled' })
      out(`disabled ${connection.id} (${connection.displayName}); revoked ${revokedSessions} session(s)`)
    },
  },
  'sso:enforce': {
    summary: 'make SSO mandatory for an organization: --org <slug> --break-glass <owner email>, or --org <slug> --off',
    flags: { org: { type: 'string' }, 'break-glass': { type: 'string' }, off: { type: 'boolean' } },
    run: async (flags, { out }) => {
      const input = parseFlags(
        z
          .strictObject({ org: slugSchema, 'break-glass': emailSchema.optional(), off: z.boolean().optional() })
          .refine((value) => Boolean(value.off) !== Boolean(value['break-glass']), { message: 'give either --break-glass <email> or --off', path: ['break-glass'] }),
        flags,
      )
      await useResolvedDatabase()
      const db = getDb()
      const organization = await requireOrganizationBySlug(input.org)
      const breakGlass = input['break-glass'] ? await getUserByEmail(db, input['break-glass']) : null
      if (input['break-glass'] && breakGlass?.organizationId !== organization.id) throw new CliUsageError('--break-glass: no owner with this email in the organization')
      try {
        const policy = await setSsoPolicy(
          { db, now: now(), actor: OPERATOR },
          { organizationId: organization.id, actingUser: null },
          { isEnforced: !input.off, breakGlassUserId: breakGlass?.id ?? organization.breakGlassUserId, mfaMode: organization.ssoMfaMode },
        )
        out(policy.isEnforced ? `SSO is mandatory for ${organization.slug}; break-glass owner ${breakGlass!.email}; ${policy.passwordSessionsRevoked} password session(s) revoked` : `SSO is optional for ${organization.slug}`)
      } catch (error) {
        // A precondition that does not hold: its sentence, exit 2, nothing written.
        if (error instanceof TRPCError && error.code === 'FORBIDDEN') throw new CliUsageError(error.message)
        throw error
      }
    },
  },
  'user:set-role': {
    summary: `set a user's role (e.g. the first admin of an SSO-only organization): --email --role (${appConfig.roles.join('|')})`,
    flags: { email: { type: 'string' }, role: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ email: emailSchema, role: roleSchema }), flags)
      await useResolvedDatabase()
      const db = getDb()
      const user = await getUserByEmail(db, input.email)
      if (!user) throw new CliUsageError('--email: no user with this email')
      if (user.role === input.role) {
        out(`${user.email} already has role ${user.role}`)
        return
      }
      const role = input.role as Role
      if (user.organizationId) {
        // The organization's invariants hold for the operator too (its last enabled owner, its
        // break-glass owner), checked under the organization lock like the console's changes.
        try {
          const { isChanged } = await setMemberRole(db, { organizationId: user.organizationId, memberId: user.id, actor: { kind: 'operator' }, now: now() }, role)
          if (!isChanged) {
            out(`${user.email} already has role ${input.role}`)
            return
          }
        } catch (error) {
          if (error instanceof TRPCError && (error.code === 'FORBIDDEN' || error.code === 'CONFLICT')) throw new CliUsageError(`--role: ${error.message}`)
          throw error
        }
      } else {
        await db.update(users).set({ role, updatedAt: now() }).where(eq(users.id, user.id))
      }
      await recordAuditEvent(db, {
        type: 'user.role_changed',
        subjectUserId: user.id,
        organizationId: user.organizationId,
        details: { from: user.role, to: input.role, byOperator: true },
      })
      out(`${user.email}: role ${user.role} → ${input.role}`)
    },
  },
  'user:reset-mfa': {
    summary: "remove a user's authenticator and recovery codes and sign out every session (the lost-phone path where no admin can help): --email",
    flags: { email: { type: 'string' } },
    run: async (flags, { out }) => {
      const input = parseFlags(z.strictObject({ email: emailSchema }), flags)
      await useResolvedDatabase()
      const db = getDb()
      const user = await getUserByEmail(db, input.email)
      if (!user) throw new CliUsageError('--email: no user with this email')
      let wasEnabled: boolean
      if (user.organizationId) {
        // Under the organization lock like the console's reset: the break-glass owner keeps their
        // factor while SSO is mandatory (turn enforcement off with sso:enforce first).
        try {
          ;({ isChanged: wasEnabled } = await resetMemberMfa(db, { organizationId: user.organizationId, memberId: user.id, actor: { kind: 'operator' }, now: now() }))
        } catch (error) {
          if (error instanceof TRPCError && (error.code === 'FORBIDDEN' || error.code === 'CONFLICT')) throw new CliUsageError(`--email: ${error.message}`)
          throw error
        }
      } else {
        wasEnabled = await disableTotp(db, user.id, now())
      }
      if (!wasEnabled) {
        out(`${user.email} has no second factor`)
        return
      }
      const sessionsRevoked = await invalidateUserSessions(db, user.id)
      await recordAuditEvent(db, { type: 'mfa.reset_by_admin', subjectUserId: user.id, organizationId: user.organizationId, details: { sessionsRevoked, byOperator: true } })
      await notifySecurityEvent({ db, now: now(), clientIp: null, userAgent: null }, user, { kind: 'mfa-reset-by-admin' })
      out(`${user.email}: two-factor authentication removed, ${sessionsRevoked} session(s) signed out`)
    },
  },
} satisfies Record<string, Command>
