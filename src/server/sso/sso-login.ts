/**
 * Server-only: starting and finishing an SSO login, whatever the protocol (OIDC now, SAML next):
 * email discovery (`auth.beginSignIn`), starting by connection (`/api/auth/sso/start`), and the
 * callback's ladder — rate limit → flow (single use, this browser, this connection) → protocol
 * validation → account rules → session — where every refusal answers 4xx, creates no session and
 * appends exactly one `sso.sign_in.failed` event.
 */
import { TRPCError } from '@trpc/server'
import { getSafeRedirect } from '../../lib/safe-redirect'
import { appError } from '../errors'
import type { RequestContext } from '../request-context'
import { ensureSsoBinding, readSsoBinding } from './browser-binding'
import { getSsoConnection, type SsoConnectionView } from './connections'
import { getEmailDomain } from './domain-name'
import { getVerifiedDomain } from './domains'
import type { SsoLoginFlow } from '../../../db/schema'
import { consumeSsoLoginFlow, createSsoLoginFlow, type SsoFlowRefusal } from './login-flows'
import { buildOidcAuthorizationUrl, OidcResponseRefusal, readOidcCallback } from './oidc/oidc-flow'
import { generateSamlRequestId } from './saml/saml-config'
import { buildSamlAuthorizationUrl, type SamlRefusalReason } from './saml/saml-login'
import { renderSsoErrorPage } from './sso-error-page'
import { evaluateTestClaims, failedTestResult, recordTestResult, type SsoProtocolDetails } from './connection-doctor'
import { completeSsoSignIn, SsoSignInRefusal, type SsoClaims, type SsoRefusalReason } from './sso-sign-in'
import { completeSsoStepUp, requireRequestingSession, SsoStepUpRefusal, type SsoStepUpRefusalReason } from './sso-step-up'

/** Where a signed-in user lands when the flow named no page. */
const DEFAULT_LANDING_PATH = '/app'
/** The second-factor page; it forwards to enrollment when policy demands a factor the user lacks. */
const MFA_STEP_PATH = '/login/mfa'

export type SsoLoginStart = { purpose: 'sign_in' | 'reauth' | 'test'; redirect: unknown; requestingUserId?: string; requestingSessionId?: string }

/**
 * Creates a flow bound to this browser and returns the IdP URL to send it to. The landing page is
 * sanitised now and stored in the flow: nothing in the callback URL decides where the user lands.
 */
export async function startSsoLogin(ctx: RequestContext, connection: SsoConnectionView, start: SsoLoginStart): Promise<string> {
  const browserBinding = ensureSsoBinding(ctx.cookies, ctx.env.appUrl)
  const isSaml = connection.protocol === 'saml'
  // SAML: the AuthnRequest's ID is the flow's nonce, so the response's InResponseTo finds this flow.
  const samlRequestId = isSaml ? generateSamlRequestId() : undefined
  const { state, nonce, pkceVerifier } = await createSsoLoginFlow(ctx, {
    connectionId: connection.id,
    purpose: start.purpose,
    redirectTo: getSafeRedirect(start.redirect, DEFAULT_LANDING_PATH),
    requestingUserId: start.requestingUserId ?? null,
    requestingSessionId: start.requestingSessionId ?? null,
    browserBinding,
    hasPkce: !isSaml,
    ...(samlRequestId ? { nonce: samlRequestId } : {}),
  })
  const isForceAuthn = start.purpose === 'reauth'
  try {
    if (isSaml) return await buildSamlAuthorizationUrl(ctx, connection, { requestId: samlRequestId!, isForceAuthn })
    return await buildOidcAuthorizationUrl(ctx, connection, { state, nonce, pkceVerifier: pkceVerifier!, forceReauthentication: isForceAuthn })
  } catch (error) {
    // Discovery failed (IdP down, issuer refused by the outbound guard) or the connection is
    // incomplete: say so, never the cause.
    console.warn(`[sso] connection ${connection.id}: authorization request could not be built: ${error instanceof Error ? error.message : String(error)}`)
    throw appError('SERVICE_UNAVAILABLE', 'Your organization’s sign-in service cannot be reached right now. Try again in a moment.')
  }
}

/**
 * Starts a step-up at the IdP the session signed in through (`purpose: 'reauth'`, forced login).
 * Only for SSO sessions: password users confirm with their password or a code.
 */
export async function startSsoReauthentication(ctx: RequestContext, auth: { user: { id: string }; session: { id: string; ssoConnectionId: string | null } }, redirect: unknown): Promise<{ url: string }> {
  const connection = auth.session.ssoConnectionId ? await getSsoConnection(ctx.db, auth.session.ssoConnectionId) : null
  if (!connection || connection.status !== 'enabled') throw appError('FORBIDDEN', 'This session did not sign in through single sign-on. Confirm with your password or a code instead.')
  await ctx.enforcePerIpRateLimit('ssoStartPerIp')
  const url = await startSsoLogin(ctx, connection, { purpose: 'reauth', redirect, requestingUserId: auth.user.id, requestingSessionId: auth.session.id })
  return { url }
}

/** The enabled connection email discovery routes `email`'s domain to, or null. */
async function findConnectionForEmail(ctx: RequestContext, email: string): Promise<SsoConnectionView | null> {
  const domain = getEmailDomain(email)
  const verified = domain ? await getVerifiedDomain(ctx.db, domain) : null
  if (!verified?.ssoConnectionId) return null
  const connection = await getSsoConnection(ctx.db, verified.ssoConnectionId, { organizationId: verified.organizationId })
  return connection?.status === 'enabled' ? connection : null
}

/**
 * Email-first sign-in: SSO for a domain routed to an enabled connection, the password step
 * otherwise. The answer depends on the domain alone, so it says nothing about whether an address
 * has an account (user enumeration, WSTG-IDNT-04). Limited by `ssoStartPerIp`.
 */
export async function beginSignIn(ctx: RequestContext, input: { email: string; redirect?: unknown }): Promise<{ next: 'password' } | { next: 'sso'; url: string }> {
  await ctx.enforcePerIpRateLimit('ssoStartPerIp')
  const connection = await findConnectionForEmail(ctx, input.email)
  if (!connection) return { next: 'password' }
  return { next: 'sso', url: await startSsoLogin(ctx, connection, { purpose: 'sign_in', redirect: input.redirect }) }
}

export type CallbackRefusalReason = SsoFlowRefusal | SsoRefusalReason | SsoStepUpRefusalReason | OidcResponseRefusal['reason'] | SamlRefusalReason | 'unknown_connection'

const STATUS_BY_REASON: Partial<Record<CallbackRefusalReason, number>> = {
  connection_disabled: 403,
  user_disabled: 403,
  role_above_connection: 403,
  user_in_other_organization: 403,
  email_missing: 403,
  email_not_verified: 403,
  domain_not_verified: 403,
  reauth_session_mismatch: 403,
  reauth_other_user: 403,
  reauth_stale: 403,
  unknown_connection: 404,
  body_too_large: 413,
  idp_unreachable: 502,
}

/** Appends the one `sso.sign_in.failed` event of a refused SSO step and renders its page. */
export async function refuseSsoStep(
  ctx: RequestContext,
  reason: CallbackRefusalReason,
  context: { connectionId: string; organizationId?: string | null; userId?: string | null; check?: string },
): Promise<Response> {
  await ctx.audit('sso.sign_in.failed', {
    organizationId: context.organizationId ?? null,
    subjectUserId: context.userId ?? null,
    details: { reason, connectionId: context.connectionId, ...(context.check ? { check: context.check } : {}) },
  })
  return renderSsoErrorPage(STATUS_BY_REASON[reason] ?? 400, reason, ctx.responseHeaders)
}

/** A 303 to `location` carrying the cookies the request set (session, known device). */
export function seeOther(ctx: RequestContext, location: string): Response {
  const headers = new Headers(ctx.responseHeaders)
  headers.set('location', location)
  headers.set('cache-control', 'no-store')
  return new Response(null, { status: 303, headers })
}

/** Where the connection doctor shows its result. */
function doctorPagePath(connectionId: string): string {
  return `/admin/sso/${connectionId}?test=done`
}

/**
 * The end of every SSO login once the protocol module has validated the IdP's answer, by the flow's
 * purpose — the same for OIDC and SAML:
 * - `sign_in`: the account rules and a new session; a 303 to the page stored in the flow (the
 *   protocol's parameters leave the address bar), or to the MFA step the organization demands;
 * - `reauth`: a fresh IdP login of the same identity stamps the session that asked (step-up);
 * - `test`: the connection doctor records what it saw and changes nothing else.
 */
export async function finishSsoLogin(
  ctx: RequestContext,
  connection: SsoConnectionView,
  flow: Pick<SsoLoginFlow, 'purpose' | 'redirectTo' | 'requestingUserId' | 'requestingSessionId' | 'createdAt'>,
  claims: SsoClaims,
  protocolDetails?: SsoProtocolDetails,
): Promise<Response> {
  const auditContext = { connectionId: connection.id, organizationId: connection.organizationId }
  // Only the doctor may run against a connection that is not enabled (that is what testing is for).
  if (flow.purpose !== 'test' && connection.status !== 'enabled') return refuseSsoStep(ctx, 'connection_disabled', auditContext)
  try {
    if (flow.purpose === 'test') {
      await requireRequestingSession(ctx, flow)
      await recordTestResult(ctx, connection.id, await evaluateTestClaims(ctx, connection, claims, protocolDetails))
      return seeOther(ctx, doctorPagePath(connection.id))
    }
    if (flow.purpose === 'reauth') {
      await completeSsoStepUp(ctx, connection, flow, claims)
      return seeOther(ctx, flow.redirectTo)
    }
    const result = await completeSsoSignIn(ctx, connection, claims)
    return seeOther(ctx, result.status === 'signed-in' ? flow.redirectTo : `${MFA_STEP_PATH}?redirect=${encodeURIComponent(flow.redirectTo)}`)
  } catch (error) {
    if (error instanceof SsoSignInRefusal || error instanceof SsoStepUpRefusal) return refuseSsoStep(ctx, error.reason, { ...auditContext, userId: error.userId })
    throw error
  }
}

/**
 * A refused protocol response: for a doctor test the failure is recorded for the admin to read
 * (and the page shows it); otherwise the generic refusal page.
 */
export async function refuseProtocolResponse(
  ctx: RequestContext,
  connection: SsoConnectionView,
  flow: Pick<SsoLoginFlow, 'purpose'> | null,
  reason: CallbackRefusalReason,
  check?: string,
): Promise<Response> {
  const refusal = await refuseSsoStep(ctx, reason, { connectionId: connection.id, organizationId: connection.organizationId, check })
  if (flow?.purpose !== 'test') return refusal
  await recordTestResult(ctx, connection.id, failedTestResult(reason, check))
  return seeOther(ctx, doctorPagePath(connection.id))
}

/**
 * The OIDC redirect URI `GET /api/auth/oidc/<connectionId>/callback`. A top-level navigation, so
 * the `SameSite=Lax` binding cookie arrives; the flow is spent before any other check, so a
 * refused callback cannot be retried either.
 */
export async function finishOidcLogin(ctx: RequestContext, connectionId: string): Promise<Response> {
  await ctx.enforcePerIpRateLimit('ssoCallbackPerIp')
  const requestUrl = new URL(ctx.request.url)
  // The URL the IdP redirected to, as the outside world sees it (behind a proxy the request URL is internal).
  const callbackUrl = new URL(requestUrl.pathname + requestUrl.search, ctx.env.appUrl)
  const state = callbackUrl.searchParams.get('state') ?? ''

  const consumption = await consumeSsoLoginFlow(ctx, { state, browserBinding: readSsoBinding(ctx.cookies, ctx.env.appUrl), connectionId })
  if (!consumption.isConsumed) return refuseSsoStep(ctx, consumption.reason, { connectionId })
  const { flow, pkceVerifier } = consumption

  const connection = await getSsoConnection(ctx.db, connectionId)
  if (!connection || connection.protocol !== 'oidc' || !pkceVerifier) return refuseSsoStep(ctx, 'unknown_connection', { connectionId })
  if (flow.purpose !== 'test' && connection.status !== 'enabled') return refuseSsoStep(ctx, 'connection_disabled', { connectionId, organizationId: connection.organizationId })

  let claims: SsoClaims
  try {
    claims = await readOidcCallback(ctx, connection, callbackUrl, { state, nonce: flow.nonce, pkceVerifier })
  } catch (error) {
    if (error instanceof OidcResponseRefusal) return refuseProtocolResponse(ctx, connection, flow, error.reason, error.check)
    throw error
  }
  return finishSsoLogin(ctx, connection, flow, claims)
}

/** Turns a thrown catalog error (rate limit, not found, unavailable) into the SSO error page. */
export function renderSsoRouteError(ctx: RequestContext, error: unknown): Response {
  if (error instanceof TRPCError && error.code === 'TOO_MANY_REQUESTS') return renderSsoErrorPage(429, 'rate_limited', ctx.responseHeaders)
  if (error instanceof TRPCError && error.code === 'NOT_FOUND') return renderSsoErrorPage(404, 'unknown_connection', ctx.responseHeaders)
  if (error instanceof TRPCError && error.code === 'SERVICE_UNAVAILABLE') return renderSsoErrorPage(502, 'idp_unreachable', ctx.responseHeaders)
  throw error
}
