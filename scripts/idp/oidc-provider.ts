/**
 * DEVELOPMENT AND TEST ONLY: a real OpenID Provider (`oidc-provider` 9, a devDependency) on
 * 127.0.0.1, so `npm run dev`, the tests and the bench sign in through actual OIDC instead of a
 * fake. It lives under `scripts/` and nothing under `src/` imports it, so the production bundle
 * never contains it; it also refuses to start when NODE_ENV=production.
 *
 * - Authorization code only, PKCE required for every client (`pkce.required: () => true`), the
 *   RFC 9207 `iss` response parameter advertised and sent (the library's default).
 * - `conformIdTokenClaims: false`: email, name and groups go into the ID token (otherwise they
 *   appear only at userinfo), and `amr`/`acr` come from the demo user's login.
 * - A minimal login page for demo users (`/interaction/:uid`); consent is implied for the
 *   registered clients (`loadExistingGrant`, returning the existing grant first).
 * - Counters of discovery and JWKS requests, so tests and the bench can prove the app caches them.
 * - Under NODE_ENV=test only: a fault switch, in-process Koa middleware that rewrites the ID token
 *   (any claim, `alg: none`, a corrupted signature, another key), the `iss` and `state` response
 *   parameters and the userinfo `sub`, and turns a successful login into an IdP error. Negative
 *   tests need hostile responses from real IdP software; `findAccount` cannot alter protocol claims.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose'
import Provider, { type KoaContext } from 'oidc-provider'

export type LocalOidcUser = {
  /** Stable subject; defaults to a value derived from the email. */
  sub?: string
  email: string
  /** Deliberately published demo password (dev) or a test value. */
  password: string
  name: string
  /** `email_verified` claim; true unless set. */
  emailVerified?: boolean
  groups?: string[]
  /** RFC 8176 `amr` values of this user's login (default `['pwd']`). */
  amr?: string[]
  acr?: string
}

export type LocalOidcClient = {
  clientId: string
  clientSecret: string
  redirectUris: string[]
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post'
}

/** Hostile behaviour for negative tests (NODE_ENV=test only). Unset fields leave responses alone. */
export type LocalOidcFaults = {
  idToken?: {
    /** Claims to set in the ID token (re-signed with the real key unless another fault says otherwise). */
    claims?: Record<string, unknown>
    /** Claims to delete. */
    removeClaims?: string[]
    /** `none`: an unsigned token (`alg: none`, empty signature). */
    alg?: 'none'
    /** `corrupt`: flip the signature; `other_key`: sign with an unpublished key under the published kid. */
    signature?: 'corrupt' | 'other_key'
  }
  authorizationResponse?: {
    /** A string replaces the `iss` parameter; null removes it. */
    iss?: string | null
    state?: string
    /** Replaces a successful response with an IdP error (state and iss kept). */
    error?: { error: string; errorDescription?: string }
  }
  userinfo?: { sub?: string; claims?: Record<string, unknown> }
}

export type LocalOidcCounters = { discovery: number; jwks: number; authorization: number; token: number; userinfo: number }

export type LocalOidcProvider = {
  issuer: string
  port: number
  counters: LocalOidcCounters
  resetCounters: () => void
  /** Test-only: replaces the active faults (null clears them). Throws outside NODE_ENV=test. */
  setFaults: (faults: LocalOidcFaults | null) => void
  stop: () => Promise<void>
}

/** Signing keys (private JWKs) and cookie keys; generated per start unless given (dev keeps them in `.data/`). */
export type LocalOidcKeys = { signingKeys: JWK[]; cookieKeys: string[] }

export type StartLocalOidcProviderOptions = {
  /** 0 picks a free port (tests). */
  port: number
  host?: string
  clients: LocalOidcClient[]
  users: LocalOidcUser[]
  keys?: LocalOidcKeys
  /** Initial faults (NODE_ENV=test only). */
  faults?: LocalOidcFaults
}

/** Scope → claims. `amr`/`acr` ride on `openid`, so every ID token carries what the login asserted. */
const SCOPE_CLAIMS = { openid: ['sub', 'amr', 'acr'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] }

/** A fresh RS256 signing key as a private JWK with a random kid. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  return { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }
}

/** Fresh keys for one run (tests). */
export async function generateLocalOidcKeys(): Promise<LocalOidcKeys> {
  return { signingKeys: [await generateSigningKey()], cookieKeys: [randomBytes(32).toString('base64url')] }
}

/**
 * Development keys and the dev client secret, generated once into `dataDir` (git-ignored
 * `.data/`), so restarting `npm run dev` keeps existing IdP sessions and the seeded secret valid.
 */
export async function loadOrCreateDevOidcSecrets(dataDir: string): Promise<LocalOidcKeys & { clientSecret: string }> {
  const file = resolve(dataDir, 'dev-oidc-provider.json')
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'))
  const secrets = { ...(await generateLocalOidcKeys()), clientSecret: randomBytes(24).toString('base64url') }
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  return secrets
}

function subjectFor(user: LocalOidcUser): string {
  return user.sub ?? `user-${Buffer.from(user.email).toString('base64url')}`
}

/** oidc-provider's storage, in memory and private to one provider instance. */
function createMemoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number | null }>()
  const live = (key: string) => {
    const entry = store.get(key)
    if (!entry) return undefined
    if (entry.expiresAt !== null && entry.expiresAt < Date.now()) {
      store.delete(key)
      return undefined
    }
    return entry
  }
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null })
      if (payload.uid) store.set(`${this.model}:uid:${payload.uid}`, { payload: { id }, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null })
      if (payload.grantId) {
        const grantKey = `grant:${payload.grantId}`
        const ids = (live(grantKey)?.payload.keys as string[] | undefined) ?? []
        store.set(grantKey, { payload: { keys: [...ids, this.key(id)] }, expiresAt: null })
      }
    }
    async find(id: string) {
      return live(this.key(id))?.payload
    }
    async findByUid(uid: string) {
      const id = live(`${this.model}:uid:${uid}`)?.payload.id as string | undefined
      return id ? this.find(id) : undefined
    }
    async findByUserCode() {
      return undefined
    }
    async consume(id: string) {
      const entry = live(this.key(id))
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000)
    }
    async destroy(id: string) {
      store.delete(this.key(id))
    }
    async revokeByGrantId(grantId: string) {
      for (const key of (live(`grant:${grantId}`)?.payload.keys as string[] | undefined) ?? []) store.delete(key)
      store.delete(`grant:${grantId}`)
    }
  }
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function loginPage(uid: string, clientId: string, users: LocalOidcUser[], problem?: string): string {
  const demoRows = users
    .map((user) => `<li><code>${escapeHtml(user.email)}</code> / <code>${escapeHtml(user.password)}</code>${user.groups?.length ? ` — groups: ${escapeHtml(user.groups.join(', '))}` : ''}</li>`)
    .join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local IdP sign-in</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.5rem 0}input{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.problem{color:#b00}</style></head>
<body><h1>Local identity provider</h1><p>Development only. Signing in to <strong>${escapeHtml(clientId)}</strong>.</p>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label>Email <input name="email" type="email" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="deny" formnovalidate>Cancel</button>
</form><h2>Demo users</h2><ul>${demoRows}</ul></body></html>`
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of request) {
    body += chunk
    if (body.length > 16 * 1024) throw new Error('form too large')
  }
  return new URLSearchParams(body)
}

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
}

/** Applies ID-token faults to a compact JWS issued by the provider. */
async function rewriteIdToken(idToken: string, fault: NonNullable<LocalOidcFaults['idToken']>, signingKey: JWK, otherKey: JWK): Promise<string> {
  const [headerSegment, payloadSegment, signature] = idToken.split('.') as [string, string, string]
  const header = decodeSegment(headerSegment)
  const payload = decodeSegment(payloadSegment)
  const hasClaimChanges = fault.claims !== undefined || fault.removeClaims !== undefined
  Object.assign(payload, fault.claims)
  for (const claim of fault.removeClaims ?? []) delete payload[claim]
  if (fault.alg === 'none') {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    return `${encode({ alg: 'none', typ: header.typ })}.${encode(payload)}.`
  }
  let token = idToken
  if (hasClaimChanges || fault.signature === 'other_key') {
    const key = fault.signature === 'other_key' ? otherKey : signingKey
    // Same kid as the published key even for `other_key`: the verifier must fail on the signature,
    // not merely on an unknown key id.
    token = await new SignJWT(payload as Record<string, unknown>)
      .setProtectedHeader({ ...(header as { alg: string }), kid: signingKey.kid })
      .sign(await importJWK(key, 'RS256'))
  } else {
    token = `${headerSegment}.${payloadSegment}.${signature}`
  }
  if (fault.signature === 'corrupt') {
    const [h, p, s] = token.split('.') as [string, string, string]
    const bytes = Buffer.from(s, 'base64url')
    bytes[0] = bytes[0]! ^ 0xff
    token = `${h}.${p}.${bytes.toString('base64url')}`
  }
  return token
}

/** Starts the provider; resolves once it listens. */
export async function startLocalOidcProvider(options: StartLocalOidcProviderOptions): Promise<LocalOidcProvider> {
  if (process.env.NODE_ENV === 'production') throw new Error('the local OIDC provider never runs with NODE_ENV=production')
  const isTest = process.env.NODE_ENV === 'test'
  if (options.faults && !isTest) throw new Error('OIDC fault injection exists only under NODE_ENV=test')
  const host = options.host ?? '127.0.0.1'
  const keys = options.keys ?? (await generateLocalOidcKeys())
  const signingKey = keys.signingKeys[0]!
  const otherKey = isTest ? await generateSigningKey() : signingKey

  // The issuer needs the port; with port 0 the server listens first and the provider is built after.
  const server: Server = createServer()
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => resolveListen())
  })
  const port = (server.address() as AddressInfo).port
  const issuer = `http://${host}:${port}`
  const usersBySub = new Map(options.users.map((user) => [subjectFor(user), user]))
  const usersByEmail = new Map(options.users.map((user) => [user.email.toLowerCase(), user]))
  const counters: LocalOidcCounters = { discovery: 0, jwks: 0, authorization: 0, token: 0, userinfo: 0 }
  let faults: LocalOidcFaults | null = options.faults ?? null

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: keys.signingKeys },
    cookies: { keys: keys.cookieKeys },
    claims: SCOPE_CLAIMS,
    scopes: ['openid', 'email', 'profile', 'groups'],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true }, rpInitiatedLogout: { enabled: false } },
    acrValues: [...new Set(options.users.flatMap((user) => (user.acr ? [user.acr] : [])))],
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, sub: string) => {
      const user = usersBySub.get(sub)
      if (!user) return undefined
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: user.emailVerified ?? true, name: user.name, groups: user.groups ?? [] }),
      }
    },
    // Consent is implied for the registered (first-party) clients. The existing grant comes first,
    // otherwise every authorization would ask for consent again.
    loadExistingGrant: async (ctx: KoaContext) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId)
      const grant = (grantId && (await ctx.oidc.provider.Grant.find(grantId))) || new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId })
      grant.addOIDCScope(String(ctx.oidc.params.scope ?? 'openid'))
      grant.addOIDCClaims(Object.values(SCOPE_CLAIMS).flat())
      await grant.save()
      return grant
    },
    renderError: async (ctx: KoaContext, out: Record<string, string>) => {
      ctx.set('content-type', 'text/html; charset=utf-8')
      ctx.body = `<!doctype html><title>Local IdP error</title><h1>${escapeHtml(out.error ?? 'error')}</h1><p>${escapeHtml(out.error_description ?? '')}</p>`
    },
  })

  // Counters: how often clients fetch discovery and keys (an app that caches them fetches each once).
  provider.use(async (ctx, next) => {
    if (ctx.path === '/.well-known/openid-configuration') counters.discovery++
    else if (ctx.path === '/jwks') counters.jwks++
    else if (ctx.path === '/token') counters.token++
    else if (ctx.path === '/me') counters.userinfo++
    else if (ctx.path === '/auth') counters.authorization++
    await next()
  })

  if (isTest) {
    const redirectUris = options.clients.flatMap((client) => client.redirectUris)
    provider.use(async (ctx, next) => {
      await next()
      const active = faults
      if (!active) return
      if (ctx.path === '/token' && active.idToken && ctx.body && typeof ctx.body === 'object' && 'id_token' in ctx.body) {
        const body = ctx.body as { id_token: string }
        ctx.body = { ...body, id_token: await rewriteIdToken(body.id_token, active.idToken, signingKey, otherKey) }
      }
      if (ctx.path === '/me' && active.userinfo && ctx.body && typeof ctx.body === 'object') {
        ctx.body = { ...(ctx.body as object), ...active.userinfo.claims, ...(active.userinfo.sub !== undefined ? { sub: active.userinfo.sub } : {}) }
      }
      const location = ctx.response.get('location')
      if (active.authorizationResponse && location && redirectUris.some((uri) => location.startsWith(`${uri}?`))) {
        const url = new URL(location)
        const fault = active.authorizationResponse
        if (fault.error && url.searchParams.has('code')) {
          const state = url.searchParams.get('state')
          const iss = url.searchParams.get('iss')
          url.search = ''
          url.searchParams.set('error', fault.error.error)
          if (fault.error.errorDescription !== undefined) url.searchParams.set('error_description', fault.error.errorDescription)
          if (state !== null) url.searchParams.set('state', state)
          if (iss !== null) url.searchParams.set('iss', iss)
        }
        if (fault.iss === null) url.searchParams.delete('iss')
        else if (fault.iss !== undefined) url.searchParams.set('iss', fault.iss)
        if (fault.state !== undefined) url.searchParams.set('state', fault.state)
        ctx.response.set('location', url.href)
      }
    })
  }

  const handleProvider = provider.callback()
  const handleInteraction = async (request: IncomingMessage, response: ServerResponse) => {
    const details = await provider.interactionDetails(request, response)
    const clientId = String(details.params.client_id ?? '')
    if (details.prompt.name === 'consent') {
      // Not expected (loadExistingGrant grants), but never leave a flow stuck on a page that does not exist.
      const grant = new provider.Grant({ accountId: details.session?.accountId, clientId })
      grant.addOIDCScope(String(details.params.scope ?? 'openid'))
      grant.addOIDCClaims(Object.values(SCOPE_CLAIMS).flat())
      await provider.interactionFinished(request, response, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true })
      return
    }
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginPage(details.uid, clientId, options.users))
      return
    }
    const form = await readForm(request)
    if (form.get('action') === 'deny') {
      await provider.interactionFinished(request, response, { error: 'access_denied', error_description: 'The user cancelled the sign-in' }, { mergeWithLastSubmission: false })
      return
    }
    const user = usersByEmail.get(String(form.get('email') ?? '').trim().toLowerCase())
    if (!user || user.password !== form.get('password')) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginPage(details.uid, clientId, options.users, 'Unknown email or wrong password.'))
      return
    }
    await provider.interactionFinished(
      request,
      response,
      { login: { accountId: subjectFor(user), amr: user.amr ?? ['pwd'], ...(user.acr ? { acr: user.acr } : {}) } },
      { mergeWithLastSubmission: false },
    )
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', issuer).pathname
    if (/^\/interaction\/[^/]+$/.test(path) && (request.method === 'GET' || request.method === 'POST')) {
      handleInteraction(request, response).catch((error: Error) => {
        if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
        response.end(`interaction failed: ${error.message}`)
      })
      return
    }
    handleProvider(request, response)
  })

  return {
    issuer,
    port,
    counters,
    resetCounters: () => {
      for (const key of Object.keys(counters) as Array<keyof LocalOidcCounters>) counters[key] = 0
    },
    setFaults: (next) => {
      if (!isTest) throw new Error('OIDC fault injection exists only under NODE_ENV=test')
      faults = next
    },
    stop: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()))
    },
  }
}
