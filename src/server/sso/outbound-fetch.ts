/**
 * Server-only: the one way Gatehouse calls an identity provider (discovery, JWKS, token, userinfo;
 * later SAML metadata). An SSO issuer is a URL an organization admin types, so every request to it
 * is a potential server-side request forgery (OWASP ASVS 12.6.1, CWE-918; the 2019 Capital One
 * breach went through a cloud metadata endpoint). The guard:
 *
 * - https only; plain http only for a loopback host the operator listed (the local IdP);
 * - refuses hosts resolving to loopback, private, link-local (169.254.169.254), unique-local,
 *   unspecified, multicast or reserved addresses (see `ip-address.ts`) unless the operator listed
 *   the host in `SSO_ALLOWED_PRIVATE_HOSTS`;
 * - checks the addresses at connect time, in the socket's own `lookup`, so a DNS answer that changes
 *   between a check and the connection (DNS rebinding) cannot slip through; every address of a
 *   name must pass, not just the first;
 * - follows redirects itself (GET only, at most a few), checking each hop by the same rules;
 * - caps the response size and the time a request may take.
 *
 * `createGuardedFetch` is openid-client's `customFetch`; `checkIssuerUrl` runs when an issuer is saved.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { getServerEnv } from '../env'
import { classifyAddress, type AddressKind } from './ip-address'

export const OUTBOUND_TIMEOUT_MS = 5000
export const OUTBOUND_MAX_RESPONSE_BYTES = 1024 * 1024
export const OUTBOUND_MAX_REDIRECTS = 3

export type OutboundPolicy = {
  /** Lower-case host names / IP literals allowed to resolve to non-public addresses (`SSO_ALLOWED_PRIVATE_HOSTS`). */
  allowedPrivateHosts: readonly string[]
  timeoutMs?: number
  maxResponseBytes?: number
  maxRedirects?: number
  /** Name resolution (tests substitute one to simulate a host that resolves to a private address). */
  lookup?: (hostname: string) => Promise<LookupAddress[]>
}

export type OutboundRefusal =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'credentials_in_url'
  | 'private_address'
  | 'dns_failure'
  | 'too_many_redirects'
  | 'response_too_large'
  | 'timeout'
  | 'issuer_has_query_or_fragment'

/** A request the guard refused or could not complete; `reason` is safe to log and show. */
export class OutboundRequestError extends Error {
  override name = 'OutboundRequestError'
  constructor(
    readonly reason: OutboundRefusal,
    message: string,
  ) {
    super(message)
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

function bareHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
}

function isListed(host: string, policy: OutboundPolicy): boolean {
  return policy.allowedPrivateHosts.includes(host)
}

function defaultLookup(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)))
  })
}

/** Refuses any non-public address unless the host is listed; returns the addresses' kinds. */
function checkAddresses(host: string, addresses: readonly string[], policy: OutboundPolicy): AddressKind[] {
  const kinds = addresses.map((address) => classifyAddress(address))
  if (!isListed(host, policy)) {
    const index = kinds.findIndex((kind) => kind !== 'public')
    if (index >= 0) {
      throw new OutboundRequestError('private_address', `${host} resolves to a ${kinds[index]!.replace('_', '-')} address (${addresses[index]}); list it in SSO_ALLOWED_PRIVATE_HOSTS to allow it`)
    }
  }
  return kinds
}

/** Resolves a host name and checks every address; the addresses returned are the only ones to connect to. */
async function resolveAddresses(host: string, policy: OutboundPolicy): Promise<LookupAddress[]> {
  let addresses: LookupAddress[]
  try {
    addresses = await (policy.lookup ?? defaultLookup)(host)
  } catch (error) {
    throw new OutboundRequestError('dns_failure', `cannot resolve ${host} (${(error as { code?: string }).code ?? 'error'})`)
  }
  if (addresses.length === 0) throw new OutboundRequestError('dns_failure', `${host} has no address`)
  checkAddresses(host, addresses.map((entry) => entry.address), policy)
  return addresses
}

async function resolveAndCheck(host: string, policy: OutboundPolicy): Promise<AddressKind[]> {
  if (isIP(host)) return checkAddresses(host, [host], policy)
  const addresses = await resolveAddresses(host, policy)
  return addresses.map((entry) => classifyAddress(entry.address))
}

/**
 * Checks one URL against the rules before any connection: scheme, credentials, and the addresses
 * its host resolves to. Returns whether plain http is in use (allowed only for listed loopback hosts).
 */
export async function checkOutboundUrl(value: string | URL, policy: OutboundPolicy): Promise<{ url: URL; isInsecure: boolean }> {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new OutboundRequestError('invalid_url', 'not a URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundRequestError('scheme_not_allowed', `${url.protocol} URLs are not allowed; use https`)
  if (url.username || url.password) throw new OutboundRequestError('credentials_in_url', 'URLs may not carry credentials')
  const host = bareHost(url)
  const kinds = await resolveAndCheck(host, policy)
  if (url.protocol === 'http:' && !(isListed(host, policy) && kinds.every((kind) => kind === 'loopback'))) {
    throw new OutboundRequestError('scheme_not_allowed', `plain http is allowed only for loopback hosts listed in SSO_ALLOWED_PRIVATE_HOSTS; use https for ${host}`)
  }
  return { url, isInsecure: url.protocol === 'http:' }
}

export type IssuerUrlCheck = {
  /** The issuer exactly as given: discovery compares it with the document's `issuer` verbatim. */
  issuer: string
  /** True for a listed loopback http issuer: openid-client then needs `allowInsecureRequests`. */
  isInsecure: boolean
}

/**
 * Checks an issuer URL when it is saved (console and CLI), by the same rules as every request,
 * plus OIDC Discovery §2 / RFC 8414 §2: an issuer has no query and no fragment.
 */
export async function checkIssuerUrl(issuer: string, policy: OutboundPolicy): Promise<IssuerUrlCheck> {
  const { url, isInsecure } = await checkOutboundUrl(issuer, policy)
  if (url.search || url.hash || issuer.includes('?') || issuer.includes('#')) {
    throw new OutboundRequestError('issuer_has_query_or_fragment', 'an issuer URL has no query string or fragment')
  }
  return { issuer, isInsecure }
}

type RequestInit = { method: string; headers: Record<string, string>; body: Buffer | null; signal?: AbortSignal | null }

async function bodyToBuffer(body: unknown): Promise<Buffer | null> {
  if (body === undefined || body === null) return null
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8')
  if (body instanceof Uint8Array) return Buffer.from(body)
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body))
  return Buffer.from(await new Response(body as BodyInit).arrayBuffer())
}

function normalizeHeaders(headers: unknown): Record<string, string> {
  if (!headers) return {}
  return Object.fromEntries(new Headers(headers as HeadersInit).entries())
}

/** One hop: connects only to addresses the policy allows (checked inside the socket's lookup). */
function requestOnce(url: URL, init: RequestInit, policy: OutboundPolicy): Promise<Response> {
  const host = bareHost(url)
  const timeoutMs = policy.timeoutMs ?? OUTBOUND_TIMEOUT_MS
  const maxBytes = policy.maxResponseBytes ?? OUTBOUND_MAX_RESPONSE_BYTES
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<Response>((resolve, reject) => {
    let isSettled = false
    const fail = (error: Error) => {
      if (isSettled) return
      isSettled = true
      clearTimeout(timer)
      init.signal?.removeEventListener('abort', onAbort)
      outgoing.destroy()
      reject(error)
    }
    const onAbort = () => fail(new OutboundRequestError('timeout', `request to ${host} was aborted`))
    const timer = setTimeout(() => fail(new OutboundRequestError('timeout', `${host} did not answer within ${timeoutMs} ms`)), timeoutMs)
    const outgoing = request(
      url,
      {
        method: init.method,
        headers: { ...init.headers, ...(init.body ? { 'content-length': String(init.body.length) } : {}) },
        // Runs for host names (Node skips it for IP literals, which `checkOutboundUrl` checked):
        // the addresses used for the connection are the ones checked, so DNS rebinding fails here.
        lookup: (hostname, options, callback) => {
          const respond = callback as (error: Error | null, address: string | LookupAddress[], family?: number) => void
          resolveAddresses(hostname.toLowerCase(), policy).then(
            (addresses) => {
              if ((options as { all?: boolean }).all) respond(null, addresses)
              else respond(null, addresses[0]!.address, addresses[0]!.family)
            },
            (error: Error) => respond(error, '', 4),
          )
        },
      },
      (incoming: IncomingMessage) => {
        const chunks: Buffer[] = []
        let size = 0
        const declared = Number(incoming.headers['content-length'] ?? 0)
        if (declared > maxBytes) {
          fail(new OutboundRequestError('response_too_large', `${host} answered with ${declared} bytes (limit ${maxBytes})`))
          return
        }
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) {
            fail(new OutboundRequestError('response_too_large', `${host} answered with more than ${maxBytes} bytes`))
            return
          }
          chunks.push(chunk)
        })
        incoming.on('error', (error) => fail(error))
        incoming.on('end', () => {
          if (isSettled) return
          isSettled = true
          clearTimeout(timer)
          init.signal?.removeEventListener('abort', onAbort)
          const headers = new Headers()
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value === undefined) continue
            for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
          }
          const status = incoming.statusCode ?? 502
          const hasBody = status !== 204 && status !== 304 && init.method !== 'HEAD'
          resolve(new Response(hasBody ? Buffer.concat(chunks) : null, { status, statusText: incoming.statusMessage, headers }))
        })
      },
    )
    if (init.signal?.aborted) return onAbort()
    init.signal?.addEventListener('abort', onAbort, { once: true })
    outgoing.on('error', (error) => fail(error))
    if (init.body) outgoing.write(init.body)
    outgoing.end()
  })
}

/** A guarded fetch with the policy applied to the first request and to every redirect hop. */
export async function guardedFetch(input: string | URL, init: { method?: string; headers?: unknown; body?: unknown; signal?: AbortSignal | null }, policy: OutboundPolicy): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase()
  const headers = normalizeHeaders(init.headers)
  const body = await bodyToBuffer(init.body)
  const maxRedirects = policy.maxRedirects ?? OUTBOUND_MAX_REDIRECTS
  let { url } = await checkOutboundUrl(input, policy)
  for (let hop = 0; ; hop++) {
    const response = await requestOnce(url, { method, headers, body, signal: init.signal }, policy)
    const location = response.headers.get('location')
    // Only idempotent reads follow redirects; a token request that redirects is an IdP error.
    if (!REDIRECT_STATUSES.has(response.status) || !location || (method !== 'GET' && method !== 'HEAD')) return response
    if (hop >= maxRedirects) throw new OutboundRequestError('too_many_redirects', `more than ${maxRedirects} redirects`)
    const next = new URL(location, url)
    // Credentials never follow a redirect to another origin.
    if (next.origin !== url.origin) delete headers.authorization
    url = (await checkOutboundUrl(next, policy)).url
  }
}

/** openid-client's `customFetch` bound to a policy. */
export function createGuardedFetch(policy: OutboundPolicy) {
  return (url: string, options: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal | null }): Promise<Response> =>
    guardedFetch(url, options, policy)
}

/** The process's policy: `SSO_ALLOWED_PRIVATE_HOSTS` and the default limits. */
export function getSsoOutboundPolicy(): OutboundPolicy {
  return { allowedPrivateHosts: getServerEnv().ssoAllowedPrivateHosts }
}
