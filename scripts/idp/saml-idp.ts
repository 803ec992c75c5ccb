/**
 * DEVELOPMENT AND TEST ONLY: a small SAML 2.0 IdP on 127.0.0.1, built directly on xml-crypto
 * 6.3.2 (`saml-response-xml.ts`), so `npm run dev`, the tests and the bench sign in through real
 * signed SAML instead of a fake. It lives under `scripts/` and nothing under `src/` imports it; it
 * refuses to start when NODE_ENV=production.
 *
 * - `GET /metadata`: IdP metadata (entity ID, HTTP-Redirect SSO URL, signing certificate).
 * - `GET /sso?SAMLRequest=…&RelayState=…`: the HTTP-Redirect binding (SAML Bindings §3.4):
 *   base64 → inflate → parse (DOCTYPE refused) → request ID, ACS URL, ForceAuthn, SP entity ID;
 *   then a login form for the demo users.
 * - `POST /login`: checks the demo password and answers with an auto-submitting HTTP-POST form
 *   (SAML Bindings §3.5) carrying a Response signed on BOTH the Response and the Assertion
 *   (rsa-sha256, exc-c14n), with InResponseTo, Destination, Recipient, Audience, NotBefore /
 *   NotOnOrAfter, AuthnInstant and AuthnContextClassRef.
 * - The ACS URL is accepted only when it is the SP entity ID's sibling (`…/metadata` → `…/acs`),
 *   Gatehouse's URL scheme: the IdP does not sign assertions for arbitrary destinations.
 * - No IdP session: every request shows the form, so ForceAuthn is honoured trivially and the
 *   AuthnInstant is always the moment of the POST (tests forge stale instants with the builder).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inflateRawSync } from 'node:zlib'
import { DOMParser } from '@xmldom/xmldom'
import { resolve } from 'node:path'
import { buildSignedSamlResponse, escapeXml, loadOrCreateSamlSigningKeys, SAML_NS, type SamlSigningKeys } from './saml-response-xml'

export type LocalSamlUser = {
  email: string
  /** Deliberately published demo password (dev) or a test value. */
  password: string
  displayName: string
  groups?: string[]
  /** NameID (persistent); defaults to a value derived from the email. */
  nameId?: string
  /** Sends the email as an `emailAddress`-format NameID instead of a persistent one. */
  isEmailNameId?: boolean
  authnContextClassRef?: string
}

export type StartLocalSamlIdpOptions = {
  /** 0 picks a free port (tests). */
  port: number
  host?: string
  keys: SamlSigningKeys
  users: LocalSamlUser[]
  /** Defaults to `http://<host>:<port>/metadata`. */
  entityId?: string
}

export type LocalSamlIdp = {
  entityId: string
  metadataUrl: string
  ssoUrl: string
  port: number
  certificatePem: string
  /** AuthnRequests seen (tests assert ForceAuthn and request IDs). */
  requests: ParsedAuthnRequest[]
  stop: () => Promise<void>
}

export type ParsedAuthnRequest = { id: string; acsUrl: string; spEntityId: string; isForceAuthn: boolean; relayState: string | null }

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'
const EMAIL_ADDRESS = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
const MAX_REQUEST_BYTES = 64 * 1024

/** Development keys, generated once with openssl into `<dataDir>/saml-idp/` (git-ignored `.data/`), so a restart keeps the certificate the seeded connection trusts. */
export function loadOrCreateDevSamlIdpKeys(dataDir: string): SamlSigningKeys {
  return loadOrCreateSamlSigningKeys(resolve(dataDir, 'saml-idp'), { commonName: 'Gatehouse local SAML IdP (development)' })
}

/** Decodes an HTTP-Redirect `SAMLRequest` (base64 of raw DEFLATE) and reads what the IdP needs. */
export function parseRedirectAuthnRequest(samlRequest: string, relayState: string | null = null): ParsedAuthnRequest {
  const xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: MAX_REQUEST_BYTES }).toString('utf8')
  if (/<!\s*(?:DOCTYPE|ENTITY)/i.test(xml)) throw new Error('AuthnRequest with a DTD refused')
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: (m) => { throw new Error(m) }, fatalError: (m) => { throw new Error(m) } } }).parseFromString(xml, 'text/xml')
  const root = doc.documentElement
  if (!root || root.localName !== 'AuthnRequest' || root.namespaceURI !== SAML_NS.protocol) throw new Error('not an AuthnRequest')
  const issuer = root.getElementsByTagNameNS(SAML_NS.assertion, 'Issuer')[0]?.textContent?.trim() ?? ''
  const id = root.getAttribute('ID') ?? ''
  const acsUrl = root.getAttribute('AssertionConsumerServiceURL') ?? ''
  if (!id || !acsUrl || !issuer) throw new Error('AuthnRequest without ID, AssertionConsumerServiceURL or Issuer')
  return { id, acsUrl, spEntityId: issuer, isForceAuthn: root.getAttribute('ForceAuthn') === 'true', relayState }
}

function idpMetadata(entityId: string, ssoUrl: string, certificatePem: string): string {
  const certificate = certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '')
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<md:EntityDescriptor xmlns:md="${SAML_NS.metadata}" xmlns:ds="${SAML_NS.dsig}" entityID="${escapeXml(entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:NameIDFormat>${PERSISTENT}</md:NameIDFormat><md:NameIDFormat>${EMAIL_ADDRESS}</md:NameIDFormat>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(ssoUrl)}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>\n`
  )
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title></head><body style="font-family:system-ui;max-width:28rem;margin:3rem auto">${body}</body></html>`
}

function loginForm(pendingId: string, request: ParsedAuthnRequest, users: LocalSamlUser[], error?: string): string {
  return page(
    'Local SAML IdP — sign in',
    `<h1>Local SAML IdP</h1><p>Signing in to <code>${escapeXml(request.spEntityId)}</code>${request.isForceAuthn ? ' (re-authentication requested)' : ''}.</p>` +
      (error ? `<p role="alert" style="color:#b00">${escapeXml(error)}</p>` : '') +
      `<form method="post" action="/login"><input type="hidden" name="pending" value="${pendingId}">` +
      `<label>Email <input name="email" type="email" autocomplete="username" required></label><br>` +
      `<label>Password <input name="password" type="password" autocomplete="current-password" required></label><br>` +
      `<button type="submit">Sign in</button></form>` +
      `<p>Demo accounts: ${users.map((user) => `<code>${escapeXml(user.email)}</code>`).join(', ')}</p>`,
  )
}

/** The HTTP-POST binding: a form the browser submits to the ACS on load. */
function autoPostForm(acsUrl: string, samlResponse: string, relayState: string | null): string {
  return page(
    'Signing in…',
    `<form method="post" action="${escapeXml(acsUrl)}" id="saml"><input type="hidden" name="SAMLResponse" value="${samlResponse}">` +
      (relayState !== null ? `<input type="hidden" name="RelayState" value="${escapeXml(relayState)}">` : '') +
      `<noscript><button type="submit">Continue</button></noscript></form><script>document.getElementById('saml').submit()</script>`,
  )
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_REQUEST_BYTES) throw new Error('form too large')
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' })
  response.end(body)
}

function nameIdOf(user: LocalSamlUser): { nameId: string; format: string } {
  if (user.isEmailNameId) return { nameId: user.email, format: EMAIL_ADDRESS }
  return { nameId: user.nameId ?? `saml-${Buffer.from(user.email).toString('base64url')}`, format: PERSISTENT }
}

/** Starts the IdP; throws under NODE_ENV=production. */
export async function startLocalSamlIdp(options: StartLocalSamlIdpOptions): Promise<LocalSamlIdp> {
  if (process.env.NODE_ENV === 'production') throw new Error('the local SAML IdP never runs with NODE_ENV=production')
  const host = options.host ?? '127.0.0.1'
  const pending = new Map<string, { request: ParsedAuthnRequest; expiresAt: number }>()
  const requests: ParsedAuthnRequest[] = []
  let entityId = options.entityId ?? ''
  let ssoUrl = ''

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${host}`)
    if (request.method === 'GET' && url.pathname === '/metadata') {
      return send(response, 200, 'application/samlmetadata+xml', idpMetadata(entityId, ssoUrl, options.keys.certificatePem))
    }
    if (request.method === 'GET' && url.pathname === '/sso') {
      const samlRequest = url.searchParams.get('SAMLRequest')
      if (!samlRequest) return send(response, 400, 'text/plain', 'SAMLRequest missing')
      let parsed: ParsedAuthnRequest
      try {
        parsed = parseRedirectAuthnRequest(samlRequest, url.searchParams.get('RelayState'))
      } catch (error) {
        return send(response, 400, 'text/plain', `bad AuthnRequest: ${(error as Error).message}`)
      }
      if (parsed.acsUrl !== parsed.spEntityId.replace(/\/metadata$/, '/acs') || !/^https?:\/\//.test(parsed.acsUrl)) {
        return send(response, 400, 'text/plain', 'the ACS URL does not belong to the requesting SP')
      }
      requests.push(parsed)
      const pendingId = randomBytes(16).toString('base64url')
      pending.set(pendingId, { request: parsed, expiresAt: Date.now() + 10 * 60_000 })
      return send(response, 200, 'text/html; charset=utf-8', loginForm(pendingId, parsed, options.users))
    }
    if (request.method === 'POST' && url.pathname === '/login') {
      const form = await readForm(request)
      const entry = pending.get(form.get('pending') ?? '')
      if (!entry || entry.expiresAt < Date.now()) return send(response, 400, 'text/plain', 'unknown or expired login')
      const user = options.users.find((candidate) => candidate.email === form.get('email')?.trim().toLowerCase())
      if (!user || user.password !== form.get('password')) {
        return send(response, 200, 'text/html; charset=utf-8', loginForm(form.get('pending')!, entry.request, options.users, 'Wrong email or password.'))
      }
      pending.delete(form.get('pending')!)
      const { nameId, format } = nameIdOf(user)
      const { xml } = buildSignedSamlResponse({
        keys: options.keys,
        idpEntityId: entityId,
        spEntityId: entry.request.spEntityId,
        acsUrl: entry.request.acsUrl,
        inResponseTo: entry.request.id,
        nameId,
        nameIdFormat: format,
        attributes: { email: user.email, displayName: user.displayName, groups: user.groups ?? [] },
        authnInstant: new Date(),
        authnContextClassRef: user.authnContextClassRef,
      })
      return send(response, 200, 'text/html; charset=utf-8', autoPostForm(entry.request.acsUrl, Buffer.from(xml, 'utf8').toString('base64'), entry.request.relayState))
    }
    send(response, 404, 'text/plain', 'not found')
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error) => send(response, 500, 'text/plain', `local SAML IdP error: ${(error as Error).message}`))
  })
  await new Promise<void>((resolveListen) => server.listen(options.port, host, resolveListen))
  const port = (server.address() as AddressInfo).port
  const origin = `http://${host}:${port}`
  entityId ||= `${origin}/metadata`
  ssoUrl = `${origin}/sso`
  return {
    entityId,
    metadataUrl: `${origin}/metadata`,
    ssoUrl,
    port,
    certificatePem: options.keys.certificatePem,
    requests,
    stop: () => new Promise<void>((resolveClose) => server.close(() => resolveClose())),
  }
}

/**
 * Plays the browser at the local SAML IdP: follows the AuthnRequest redirect URL, submits the login
 * form, and returns what the browser would POST to the ACS (not posted). Throws on a wrong password.
 */
export async function signInAtLocalSamlIdp(redirectUrl: string | URL, credentials: { email: string; password: string }): Promise<{ acsUrl: string; SAMLResponse: string; RelayState: string | null }> {
  const start = await fetch(redirectUrl, { redirect: 'manual' })
  const loginPage = await start.text()
  if (start.status !== 200) throw new Error(`local SAML IdP refused the request: ${start.status} ${loginPage}`)
  const pendingId = /name="pending" value="([^"]+)"/.exec(loginPage)?.[1]
  if (!pendingId) throw new Error('local SAML IdP showed no login form')
  const answer = await fetch(new URL('/login', redirectUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ pending: pendingId, email: credentials.email, password: credentials.password }),
  })
  const html = await answer.text()
  const acsUrl = /<form method="post" action="([^"]+)" id="saml">/.exec(html)?.[1]
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(html)?.[1]
  if (!acsUrl || !samlResponse) throw new Error('local SAML IdP did not answer with a SAML POST form (wrong password?)')
  const relayState = /name="RelayState" value="([^"]*)"/.exec(html)?.[1] ?? null
  const unescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  return { acsUrl: unescape(acsUrl), SAMLResponse: samlResponse, RelayState: relayState === null ? null : unescape(relayState) }
}
