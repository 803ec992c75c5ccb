/**
 * Server-only: the deployment environment, validated once at start-up.
 *
 * Production refuses to start on a weak secret or a non-https public URL (OWASP ASVS 14.1):
 * a Gatehouse that silently runs with a guessable key or plain-http cookies is worse than one that
 * does not run. Development generates a local secret under `.data/` instead of shipping one.
 */
import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'

export type ServerEnv = {
  mode: 'development' | 'production' | 'test'
  /** Explicit `DATABASE_URL`, or null to let `resolve-database.ts` find one. */
  databaseUrl: string | null
  appUrl: URL
  appSecret: Uint8Array
  port: number
  /** How many reverse proxies in front of the app may set `X-Forwarded-For`. */
  trustProxyHops: number
  /**
   * Where mail goes: `smtp` (nodemailer through SMTP_URL) or `outbox` (the mail_outbox table, read by
   * the dev outbox page and by tests). Defaults to `outbox` in development and test, `smtp` in production.
   */
  mailTransport: 'smtp' | 'outbox'
  smtpUrl: string | null
  mailFrom: string
  /** Bounded waits on the database (`db/availability.ts`, ADR 011). */
  databaseTimeouts: { acquireTimeoutMs: number; queryTimeoutMs: number }
  /**
   * Resolvers for domain verification (`ip` or `ip:port`, e.g. `127.0.0.1:5353` in tests); empty
   * means the system resolver.
   */
  dnsServers: string[]
  /**
   * Host names / IP literals an SSO issuer may use even though they resolve to a loopback or private
   * address (lower-case). Empty by default in production; `127.0.0.1,localhost` in development and
   * tests, for the local IdP.
   */
  ssoAllowedPrivateHosts: string[]
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
const MIN_SECRET_BYTES = 32
const DEV_SECRET_FILE = '.data/dev-app-secret'

const rawEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\//, 'must be a mysql:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  APP_URL: z.string().optional(),
  APP_SECRET: z.string().optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  // A frozen database must not hang requests: see src/server/db/availability.ts.
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  // An address, not necessarily with a dotted domain (`gatehouse@localhost` is the default).
  MAIL_FROM: z
    .string()
    .max(254)
    .regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an email address')
    .default('gatehouse@localhost'),
  // `outbox` in production is for tests and demos only (the HTTP tests run the production build
  // with it): real users would never receive their reset or verification links.
  DNS_SERVERS: z.string().optional(),
  SSO_ALLOWED_PRIVATE_HOSTS: z.string().optional(),
  MAIL_TRANSPORT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.enum(['smtp', 'outbox'], { error: 'must be smtp or outbox' }).optional(),
  ),
})

const DEV_ALLOWED_PRIVATE_HOSTS = ['127.0.0.1', 'localhost']

/** Parses `DNS_SERVERS`: comma-separated IP addresses with optional ports (`[v6]:port` for IPv6). */
export function parseDnsServers(value: string | undefined): string[] {
  if (!value?.trim()) return []
  return value.split(',').map((part) => {
    const server = part.trim()
    const match = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/i.exec(server) ?? /^([0-9a-f:]+)$/i.exec(server)
    const host = match?.[1] ?? match?.[2]
    const port = match?.[3] === undefined ? undefined : Number(match[3])
    if (!match || !host || !isIP(host) || (port !== undefined && (port < 1 || port > 65535))) {
      throw new EnvError(`DNS_SERVERS: "${server}" is not an IP address with an optional port (e.g. 127.0.0.1:5353 or [::1]:5353)`)
    }
    return server
  })
}

/** Parses `SSO_ALLOWED_PRIVATE_HOSTS`: comma-separated host names or IP literals, lower-cased. */
export function parseAllowedPrivateHosts(value: string | undefined, mode: ServerEnv['mode']): string[] {
  if (value === undefined) return mode === 'production' ? [] : [...DEV_ALLOWED_PRIVATE_HOSTS]
  return value
    .split(',')
    .map((part) => part.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1'))
    .filter((part) => part.length > 0)
}

export class EnvError extends Error {
  override name = 'EnvError'
}

/** Decodes APP_SECRET (hex or base64/base64url) and refuses anything short or repetitive. */
export function parseAppSecret(value: string): Uint8Array {
  const trimmed = value.trim()
  const bytes = /^[0-9a-f]+$/i.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new EnvError(
      `APP_SECRET must encode at least ${MIN_SECRET_BYTES} random bytes (hex or base64); ` +
        `generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    )
  }
  // A "secret" of one repeated byte pattern is a placeholder, not randomness.
  if (new Set(bytes).size < 16) {
    throw new EnvError('APP_SECRET looks like a placeholder (too few distinct bytes); generate a random one')
  }
  return new Uint8Array(bytes)
}

/** Production accepts only https, except plain http on a loopback host (to run the build locally). */
export function parseAppUrl(value: string, mode: ServerEnv['mode']): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new EnvError(`APP_URL is not a URL: set it to the public origin, e.g. https://auth.example.com`)
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new EnvError('APP_URL must be a bare origin (scheme, host, optional port) without path or credentials')
  }
  const isLoopback = LOOPBACK_HOSTS.has(url.hostname)
  if (mode === 'production' && url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback)) {
    throw new EnvError('APP_URL must use https in production (plain http is accepted only for localhost / 127.0.0.1)')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnvError('APP_URL must be an http(s) origin')
  }
  return url
}

function readOrCreateDevSecret(projectRoot: string): string {
  const file = resolve(projectRoot, DEV_SECRET_FILE)
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const secret = randomBytes(32).toString('base64url')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${secret}\n`, { mode: 0o600 })
  return secret
}

/** Parses an environment; throws `EnvError` with a message that says what to set. */
export function parseServerEnv(source: NodeJS.ProcessEnv, projectRoot = process.cwd()): ServerEnv {
  const parsed = rawEnvSchema.safeParse(source)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new EnvError(`${issue.path.join('.')}: ${issue.message}`)
  }
  const raw = parsed.data
  const mode = raw.NODE_ENV

  if (mode === 'production' && !raw.APP_SECRET) {
    throw new EnvError('APP_SECRET is required in production (at least 32 random bytes, hex or base64)')
  }
  if (mode === 'production' && !raw.DATABASE_URL) {
    throw new EnvError('DATABASE_URL is required in production (mysql://user:password@host:3306/gatehouse)')
  }
  if (mode === 'production' && !raw.APP_URL) {
    throw new EnvError('APP_URL is required in production (the https origin users reach)')
  }
  const appSecret = parseAppSecret(raw.APP_SECRET ?? readOrCreateDevSecret(projectRoot))
  const appUrl = parseAppUrl(raw.APP_URL ?? `http://localhost:${raw.PORT}`, mode)
  const mailTransport = raw.MAIL_TRANSPORT ?? (mode === 'production' ? 'smtp' : 'outbox')
  if (mailTransport === 'smtp' && !raw.SMTP_URL) {
    // Refuse at start-up rather than at the first password reset, when a user is waiting for a link.
    throw new EnvError(
      'SMTP_URL is required when MAIL_TRANSPORT=smtp (the production default), e.g. smtps://user:password@smtp.example.com:465; ' +
        'MAIL_TRANSPORT=outbox keeps mail in the database instead (tests and demos only)',
    )
  }

  return {
    mode,
    databaseUrl: raw.DATABASE_URL ?? null,
    appUrl,
    appSecret,
    port: raw.PORT,
    trustProxyHops: raw.TRUST_PROXY_HOPS,
    mailTransport,
    smtpUrl: raw.SMTP_URL ?? null,
    mailFrom: raw.MAIL_FROM,
    databaseTimeouts: { acquireTimeoutMs: raw.DATABASE_ACQUIRE_TIMEOUT_MS, queryTimeoutMs: raw.DATABASE_QUERY_TIMEOUT_MS },
    dnsServers: parseDnsServers(raw.DNS_SERVERS),
    ssoAllowedPrivateHosts: parseAllowedPrivateHosts(raw.SSO_ALLOWED_PRIVATE_HOSTS, mode),
  }
}

let cachedEnv: ServerEnv | undefined

/** The process's environment, parsed on first use. */
export function getServerEnv(): ServerEnv {
  cachedEnv ??= parseServerEnv(process.env)
  return cachedEnv
}

/** Tests change the environment between files; this forgets the parsed copy. */
export function resetServerEnvForTests(): void {
  cachedEnv = undefined
}
