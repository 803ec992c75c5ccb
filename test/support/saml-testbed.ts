/**
 * A SAML tenant for sign-in tests: the local SAML IdP (`scripts/idp/saml-idp.ts`, real signatures)
 * and an organization whose verified domain routes to an enabled SAML connection trusting it; plus
 * the browser steps of a login (email first → IdP → ACS POST without cookies → completion GET with them).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseRedirectAuthnRequest, signInAtLocalSamlIdp, startLocalSamlIdp, type LocalSamlIdp, type LocalSamlUser } from '../../scripts/idp/saml-idp'
import { loadOrCreateSamlSigningKeys, type SamlSigningKeys } from '../../scripts/idp/saml-response-xml'
import type { Organization, SsoConnection } from '../../db/schema'
import { now } from '../../src/server/clock'
import { getDb, type Database } from '../../src/server/db/client'
import { addOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../../src/server/sso/domains'
import { handleSamlAcsRoute, handleSamlCompleteRoute, handleSsoStartRoute } from '../../src/server/sso/sso-routes'
import { getServerEnv } from '../../src/server/env'
import { createTestOrganization } from './auth-fixtures'
import { beginSignInAs, cookieHeader, storeCookies, type TestBrowser } from './oidc-fixtures'
import { createTestSamlConnection } from './saml-fixtures'
import { OPERATOR_ACTOR } from './sso-fixtures'

export type SamlTestbed = { idp: LocalSamlIdp; organization: Organization; connection: SsoConnection; domain: string; stop: () => Promise<void> }

let count = 0

/**
 * Starts the IdP with `users` and a tenant whose `domain` routes to a SAML connection trusting it.
 * `keys` (e.g. `createSamlTestKeys`) lets hand-built responses be signed as this IdP signs; `db` is
 * where the tenant is written (default: this worker's database; HTTP tests pass the server's).
 */
export async function startSamlTestbed(
  users: LocalSamlUser[],
  options: { domain: string; connection?: Partial<SsoConnection>; mfaPolicy?: 'optional' | 'required'; keys?: SamlSigningKeys; db?: Database },
): Promise<SamlTestbed> {
  const db = options.db ?? getDb()
  count += 1
  const idp = await startLocalSamlIdp({ port: 0, keys: options.keys ?? loadOrCreateSamlSigningKeys(mkdtempSync(join(tmpdir(), 'saml-testbed-'))), users })
  const organization = await createTestOrganization({ name: `SAML tenant ${count} ${Date.now()}`, mfaPolicy: options.mfaPolicy, db })
  const connection = await createTestSamlConnection(organization.id, {
    samlIdpEntityId: idp.entityId,
    samlIdpSsoUrl: idp.ssoUrl,
    samlIdpCertificates: [idp.certificatePem],
    ...options.connection,
  }, db)
  const deps = { db, now: now(), actor: OPERATOR_ACTOR }
  await addOrganizationDomain(deps, { organizationId: organization.id, domain: options.domain })
  await verifyOrganizationDomainByOperator(deps, { organizationId: organization.id, domain: options.domain })
  await setDomainConnection(deps, { organizationId: organization.id, domain: options.domain, connectionId: connection.id })
  return { idp, organization, connection, domain: options.domain, stop: () => idp.stop() }
}

/** The IdP's POST to the ACS, as a browser sends it cross-site: no cookie at all. */
export async function postToAcs(acsUrl: string, samlResponse: string, options: { ip?: string; connectionId?: string; relayState?: string } = {}): Promise<Response> {
  const url = new URL(acsUrl)
  const connectionId = options.connectionId ?? decodeURIComponent(url.pathname.split('/')[4] ?? '')
  const body = new URLSearchParams({ SAMLResponse: samlResponse, ...(options.relayState !== undefined ? { RelayState: options.relayState } : {}) }).toString()
  const request = new Request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body })
  if (options.ip) Object.defineProperty(request, 'ip', { value: options.ip })
  return handleSamlAcsRoute(request, connectionId)
}

/** The 303 from the ACS followed in `browser` (its cookies arrive: a top-level GET). */
export async function followToCompletion(browser: TestBrowser, completeUrl: string): Promise<Response> {
  const url = new URL(completeUrl, 'http://localhost:3000')
  const connectionId = decodeURIComponent(url.pathname.split('/')[4] ?? '')
  const request = new Request(url, { headers: { cookie: cookieHeader(browser.cookies), 'user-agent': 'vitest-browser' } })
  Object.defineProperty(request, 'ip', { value: browser.ip })
  const response = await handleSamlCompleteRoute(request, connectionId)
  storeCookies(browser.cookies, response.headers.getSetCookie())
  return response
}

/** Email first → the IdP's login form → ACS → completion, in `browser`. */
export async function loginThroughSamlIdp(browser: TestBrowser, credentials: { email: string; password: string }, redirect?: string) {
  const answer = await beginSignInAs(browser, credentials.email, redirect)
  if (answer.next !== 'sso') throw new Error(`expected SSO for ${credentials.email}, got ${answer.next}`)
  const posted = await signInAtLocalSamlIdp(answer.url, credentials)
  const acs = await postToAcs(posted.acsUrl, posted.SAMLResponse, { ip: browser.ip })
  const completeUrl = acs.headers.get('location')
  if (acs.status !== 303 || !completeUrl) return { acs, completion: null, samlResponse: posted.SAMLResponse }
  const completion = await followToCompletion(browser, completeUrl)
  return { acs, completion, samlResponse: posted.SAMLResponse }
}

/**
 * Starts a login at `connectionId` in `browser` through the start route (a bookmark: no Fetch
 * Metadata) and returns the AuthnRequest ID, i.e. the flow's nonce a hand-built response answers.
 */
export async function startSamlFlow(connectionId: string, browser: TestBrowser, redirect?: string): Promise<string> {
  const url = new URL('/api/auth/sso/start', getServerEnv().appUrl)
  url.searchParams.set('connection', connectionId)
  if (redirect) url.searchParams.set('redirect', redirect)
  const request = new Request(url, { headers: { cookie: cookieHeader(browser.cookies), 'user-agent': 'vitest-browser' } })
  Object.defineProperty(request, 'ip', { value: browser.ip })
  const response = await handleSsoStartRoute(request)
  storeCookies(browser.cookies, response.headers.getSetCookie())
  const location = response.headers.get('location')
  if (response.status !== 303 || !location) throw new Error(`SSO start answered ${response.status}`)
  return parseRedirectAuthnRequest(new URL(location).searchParams.get('SAMLRequest')!).id
}
