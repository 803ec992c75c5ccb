/**
 * Fixtures for OIDC sign-in tests against the real local provider (`scripts/idp/oidc-provider.ts`):
 * organizations with a verified domain routed to an enabled connection at the provider, and a test
 * browser that starts a login through `auth.beginSignIn`, signs in at the IdP without Chromium
 * (`signInAtLocalIdp`) and brings the redirect back to the app's callback route with its cookies.
 */
import { startLocalOidcProvider, type LocalOidcProvider, type LocalOidcUser } from '../../scripts/idp/oidc-provider'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import type { Organization } from '../../db/schema'
import { now } from '../../src/server/clock'
import { getDb, type Database } from '../../src/server/db/client'
import { getServerEnv } from '../../src/server/env'
import { getSessionCookieName } from '../../src/server/auth/session-cookie'
import { createOidcConnection, setSsoConnectionStatus, type SsoConnectionView } from '../../src/server/sso/connections'
import { addOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { getOidcRedirectUri } from '../../src/server/sso/oidc/oidc-flow'
import { handleOidcCallbackRoute } from '../../src/server/sso/sso-routes'
import { getFreePort } from '../setup/app-server'
import { callerWithResponse } from './caller'
import { createTestOrganization, nextTestIp } from './auth-fixtures'
import { OPERATOR_ACTOR } from './sso-fixtures'

export const OIDC_CLIENT_SECRET = 'local-test-client-secret-for-gatehouse'
const LOOPBACK_POLICY = { allowedPrivateHosts: ['127.0.0.1', 'localhost'] }

export type OidcTenantSpec = {
  groupRoleMap?: Record<string, string>
  defaultRole?: string
  mfaAmrValues?: string[]
  ssoMfaMode?: 'require_gatehouse_mfa' | 'trust_idp_mfa'
  mfaPolicy?: 'optional' | 'required'
  /** The verified domain routed to the connection; a unique `.test` domain when omitted. */
  domain?: string
}

export type OidcTestTenant = { organization: Organization; connection: SsoConnectionView; domain: string; clientId: string }

export type OidcTestbed = { idp: LocalOidcProvider; tenants: OidcTestTenant[]; stop: () => Promise<void> }

let tenantCount = 0

async function createTenant(db: Database, issuer: string, spec: OidcTenantSpec): Promise<OidcTestTenant> {
  tenantCount += 1
  const suffix = `${tenantCount}${Date.now().toString(36)}`
  const clientId = `gatehouse-${suffix}`
  const organization = await createTestOrganization({ name: `Tenant ${suffix}`, mfaPolicy: spec.mfaPolicy, ssoMfaMode: spec.ssoMfaMode, db })
  const deps = { db, now: now(), actor: OPERATOR_ACTOR, outboundPolicy: LOOPBACK_POLICY }
  const created = await createOidcConnection(deps, {
    organizationId: organization.id,
    displayName: 'Local IdP',
    issuer,
    clientId,
    clientSecret: OIDC_CLIENT_SECRET,
    scopes: 'openid email profile groups',
    groupRoleMap: spec.groupRoleMap ?? {},
    defaultRole: spec.defaultRole ?? 'member',
    mfaAmrValues: spec.mfaAmrValues ?? [],
  })
  const { connection } = await setSsoConnectionStatus(deps, { connectionId: created.id, status: 'enabled' })
  const domain = spec.domain ?? `tenant${suffix}.test`
  await addOrganizationDomain(deps, { organizationId: organization.id, domain })
  await verifyOrganizationDomainByOperator(deps, { organizationId: organization.id, domain })
  await setDomainConnection(deps, { organizationId: organization.id, domain, connectionId: connection.id })
  return { organization, connection, domain, clientId }
}

/** Where the testbed's tenants live; both default to this test worker's own app (in-process tests). */
export type OidcTestbedOptions = {
  /** The app's external URL, which the registered redirect URIs use (a built server's `url`). */
  appUrl?: URL
  /** The database the tenants are written to (a built server's, through `createDatabase`). */
  db?: Database
}

/**
 * Creates one tenant per spec, each with its own connection (client) at one local provider, then
 * starts the provider with every connection's redirect URI registered (the port is chosen first,
 * since the issuer URL, saved in each connection, contains it).
 */
export async function startOidcTestbed(users: LocalOidcUser[], specs: OidcTenantSpec[], options: OidcTestbedOptions = {}): Promise<OidcTestbed> {
  const db = options.db ?? getDb()
  const appUrl = options.appUrl ?? getServerEnv().appUrl
  const port = await getFreePort()
  const issuer = `http://127.0.0.1:${port}`
  const tenants: OidcTestTenant[] = []
  for (const spec of specs) tenants.push(await createTenant(db, issuer, spec))
  const idp = await startLocalOidcProvider({
    port,
    users,
    clients: tenants.map((tenant) => ({ clientId: tenant.clientId, clientSecret: OIDC_CLIENT_SECRET, redirectUris: [getOidcRedirectUri(appUrl, tenant.connection.id)] })),
  })
  return { idp, tenants, stop: () => idp.stop() }
}

/** The app's redirect URI for a connection (what the IdP must accept). */
export function redirectUriOf(connectionId: string): string {
  return getOidcRedirectUri(getServerEnv().appUrl, connectionId)
}

/** A cookie header from a jar map. */
export function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ')
}

/** Applies `Set-Cookie` lines to a jar map, as a browser would. */
export function storeCookies(cookies: Map<string, string>, setCookieLines: string[]): void {
  for (const line of setCookieLines) {
    const [pair] = line.split(';')
    const separator = pair!.indexOf('=')
    const name = pair!.slice(0, separator).trim()
    const value = decodeURIComponent(pair!.slice(separator + 1).trim())
    if (/max-age=0\b/i.test(line) || value === '') cookies.delete(name)
    else cookies.set(name, value)
  }
}

/** A browser for SSO tests: its cookies for the app, and its client address. */
export type TestBrowser = { cookies: Map<string, string>; ip: string }

export function newTestBrowser(): TestBrowser {
  return { cookies: new Map(), ip: nextTestIp() }
}

/** The email-first step in `browser`: answers `next` and keeps the cookies the app set (the SSO binding). */
export async function beginSignInAs(browser: TestBrowser, email: string, redirect?: string) {
  const { caller, responseHeaders } = callerWithResponse({ ip: browser.ip, cookie: cookieHeader(browser.cookies) })
  const answer = await caller.auth.beginSignIn({ email, redirect })
  storeCookies(browser.cookies, responseHeaders.getSetCookie())
  return answer
}

/** Delivers a redirect back from the IdP to the app's callback route in `browser`; returns the app's answer. */
export async function deliverCallback(browser: TestBrowser, callbackUrl: string): Promise<Response> {
  const url = new URL(callbackUrl)
  const connectionId = decodeURIComponent(url.pathname.split('/')[4] ?? '')
  const request = new Request(url, { headers: { cookie: cookieHeader(browser.cookies), 'user-agent': 'vitest-browser' } })
  Object.defineProperty(request, 'ip', { value: browser.ip })
  const response = await handleOidcCallbackRoute(request, connectionId)
  storeCookies(browser.cookies, response.headers.getSetCookie())
  return response
}

/** Email first → sign-in at the IdP → callback, in a fresh browser (or `browser`). */
export async function loginThroughIdp(credentials: { email: string; password: string }, options: { browser?: TestBrowser; redirect?: string; emailForDiscovery?: string } = {}) {
  const browser = options.browser ?? newTestBrowser()
  const answer = await beginSignInAs(browser, options.emailForDiscovery ?? credentials.email, options.redirect)
  if (answer.next !== 'sso') throw new Error(`expected SSO for ${credentials.email}, got ${answer.next}`)
  const callbackUrl = await signInAtLocalIdp(answer.url, credentials)
  const response = await deliverCallback(browser, callbackUrl)
  return { browser, response, callbackUrl, location: response.headers.get('location') }
}

/** A caller holding `browser`'s cookies (to ask `auth.me` what the login produced). */
export function callerIn(browser: TestBrowser) {
  return callerWithResponse({ ip: browser.ip, cookie: cookieHeader(browser.cookies) }).caller
}

/** A browser that holds a session token already (as after a password sign-in, or a session row written by a fixture). */
export function browserWithSession(token: string): TestBrowser {
  const browser = newTestBrowser()
  browser.cookies.set(getSessionCookieName(getServerEnv().appUrl), token)
  return browser
}

/** The session token `browser` holds now (undefined when signed out). */
export function sessionTokenIn(browser: TestBrowser): string | undefined {
  return browser.cookies.get(getSessionCookieName(getServerEnv().appUrl))
}

/** Runs procedures in `browser` and keeps every cookie they set (the SSO binding, a rotated session), as `beginSignInAs` does. */
export async function inBrowser<T>(browser: TestBrowser, call: (caller: ReturnType<typeof callerWithResponse>['caller']) => Promise<T>): Promise<T> {
  const { caller, responseHeaders } = callerWithResponse({ ip: browser.ip, cookie: cookieHeader(browser.cookies) })
  try {
    return await call(caller)
  } finally {
    storeCookies(browser.cookies, responseHeaders.getSetCookie())
  }
}

/** The connection doctor in `browser`: `organization.sso.startTest` → sign in at the IdP as `credentials` → callback. */
export async function runDoctorTest(browser: TestBrowser, connectionId: string, credentials: { email: string; password: string }) {
  const { url } = await inBrowser(browser, (caller) => caller.organization.sso.startTest({ connectionId }))
  const callbackUrl = await signInAtLocalIdp(url, credentials)
  return deliverCallback(browser, callbackUrl)
}

/** The IdP URL of a step-up started in `browser` (`auth.beginSsoReauthentication`; the binding cookie is kept). */
export async function beginStepUpIn(browser: TestBrowser, redirect?: string): Promise<string> {
  const { url } = await inBrowser(browser, (caller) => caller.auth.beginSsoReauthentication({ redirect }))
  return url
}
