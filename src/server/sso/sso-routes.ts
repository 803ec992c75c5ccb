/**
 * Server-only: the SSO URLs outsiders call, as fetch handlers for Start server routes. Each builds
 * the transport-neutral request context from its `Request`, so the callback reaches the same
 * session layer, rate limits and audit as a tRPC procedure.
 */
import { ID_PATTERN } from '../../lib/input-formats'
import { createHeaderCookieJar } from '../http/cookies'
import { createRequestContext, type RequestContext } from '../request-context'
import { getSsoConnection } from './connections'
import { renderSsoErrorPage, renderSsoStartConfirmation } from './sso-error-page'
import { buildSamlServiceProviderMetadata } from './saml/saml-metadata'
import { acceptSamlResponse, completeSamlLogin } from './saml/saml-login'
import { finishOidcLogin, renderSsoRouteError, startSsoLogin } from './sso-login'

function contextFor(request: Request): RequestContext {
  const responseHeaders = new Headers()
  return createRequestContext({ request, cookies: createHeaderCookieJar(request, responseHeaders), responseHeaders })
}

/** `GET /api/auth/oidc/<connectionId>/callback`: the OIDC redirect URI of one connection. */
export async function handleOidcCallbackRoute(request: Request, connectionId: string): Promise<Response> {
  const ctx = contextFor(request)
  if (!ID_PATTERN.test(connectionId)) return renderSsoErrorPage(404, 'unknown_connection')
  try {
    return await finishOidcLogin(ctx, connectionId)
  } catch (error) {
    return renderSsoRouteError(ctx, error)
  }
}

/**
 * True when the browser says this navigation came from another site (Fetch Metadata). A typed URL
 * or a bookmark says `none`; our own pages say `same-origin`; old browsers say nothing.
 */
function isCrossSiteNavigation(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site')
  return site !== null && site !== 'same-origin' && site !== 'none'
}

/**
 * `GET /api/auth/sso/start?connection=<id>&redirect=<path>`: starts a login at one connection (for
 * bookmarks and IdP tiles). It changes no account state; limited by `ssoStartPerIp`.
 *
 * Login CSRF: a link on another site could start a login at a connection whose IdP signs people
 * in without asking, and bring the victim back signed into the attacker's account. A cross-site
 * start therefore stops at a confirmation page naming the connection; the click continues
 * same-origin. Bookmarks and typed URLs (`Sec-Fetch-Site: none`) go straight on.
 */
export async function handleSsoStartRoute(request: Request): Promise<Response> {
  const ctx = contextFor(request)
  const params = new URL(request.url).searchParams
  const connectionId = params.get('connection') ?? ''
  try {
    await ctx.enforcePerIpRateLimit('ssoStartPerIp')
    const connection = ID_PATTERN.test(connectionId) ? await getSsoConnection(ctx.db, connectionId) : null
    if (!connection || connection.status !== 'enabled') return renderSsoErrorPage(404, 'unknown_connection', ctx.responseHeaders)
    if (isCrossSiteNavigation(request)) return renderSsoStartConfirmation(connection.displayName, new URL(request.url))
    const url = await startSsoLogin(ctx, connection, { purpose: 'sign_in', redirect: params.get('redirect') })
    const headers = new Headers(ctx.responseHeaders)
    headers.set('location', url)
    headers.set('cache-control', 'no-store')
    return new Response(null, { status: 303, headers })
  } catch (error) {
    return renderSsoRouteError(ctx, error)
  }
}

/** `GET /api/auth/saml/<connectionId>/metadata`: the SP metadata (also the SP entity ID) to give the IdP. */
export async function handleSamlMetadataRoute(request: Request, connectionId: string): Promise<Response> {
  const ctx = contextFor(request)
  const connection = ID_PATTERN.test(connectionId) ? await getSsoConnection(ctx.db, connectionId) : null
  if (!connection || connection.protocol !== 'saml') return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } })
  const xml = buildSamlServiceProviderMetadata({ appUrl: ctx.env.appUrl, connectionId: connection.id, nameIdFormat: connection.samlNameIdFormat })
  return new Response(xml, { status: 200, headers: { 'content-type': 'application/samlmetadata+xml; charset=utf-8', 'cache-control': 'public, max-age=300' } })
}

/** `POST /api/auth/saml/<connectionId>/acs`: the assertion consumer (step 1; reads no cookie). */
export async function handleSamlAcsRoute(request: Request, connectionId: string): Promise<Response> {
  const ctx = contextFor(request)
  if (!ID_PATTERN.test(connectionId)) return renderSsoErrorPage(404, 'unknown_connection')
  try {
    return await acceptSamlResponse(ctx, connectionId)
  } catch (error) {
    return renderSsoRouteError(ctx, error)
  }
}

/** `GET /api/auth/saml/<connectionId>/complete?ticket=…`: the completion in the browser that started the login (step 2). */
export async function handleSamlCompleteRoute(request: Request, connectionId: string): Promise<Response> {
  const ctx = contextFor(request)
  if (!ID_PATTERN.test(connectionId)) return renderSsoErrorPage(404, 'unknown_connection')
  try {
    return await completeSamlLogin(ctx, connectionId)
  } catch (error) {
    return renderSsoRouteError(ctx, error)
  }
}
