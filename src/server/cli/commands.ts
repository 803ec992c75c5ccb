/** Server-only: the CLI's commands, each a flag spec, a zod schema and a run function. */
import { z } from 'zod'
import appConfig from '../../../app.config'
import { recordAuditEvent, verifyAuditChain } from '../audit/audit-log'
import { hashPassword } from '../auth/password'
import { checkPasswordPolicy } from '../auth/password-policy'
import { invalidateUserSessions } from '../auth/session'
import { getDb } from '../db/client'
import { migrateDatabase } from '../db/migrate'
import { resolveDatabaseUrl } from '../db/resolve-database'
import { resetServerEnvForTests } from '../env'
import { emailSchema } from '../users/email'
import { createOrganization, createUser, getOrganizationBySlug, getUserByEmail, isDuplicateKeyError, isRole } from '../users/users'
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
} satisfies Record<string, Command>
