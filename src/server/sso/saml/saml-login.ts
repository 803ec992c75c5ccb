/**
 * Server-only: the SAML half of an SSO login (SPEC §6; ADR 015) — the AuthnRequest out by
 * HTTP-Redirect, and the two-step answer:
 *
 * 1. `POST …/acs` — the IdP's cross-site HTTP-POST. `SameSite=Lax` cookies never come with it, so
 *    it reads none: body size → pre-parse checks (no DTD, no encrypted assertion, no SHA-1) →
 *    node-saml (signatures, audience, times, InResponseTo claimed atomically from a flow of *this*
 *    connection) → the checks node-saml does not make (Issuer, Destination, Recipient) → the replay
 *    store → the validated claims on the flow with a one-time ticket → 303 to step 2.
 * 2. `GET …/complete?ticket=…` — a top-level navigation, so the Lax binding cookie arrives: the
 *    flow is consumed only by the browser that started it, then the one SSO completion runs.
 *
 * The ACS is the only entry of the CSRF exemption list: its integrity comes from the signature,
 * `InResponseTo` and the browser check at step 2. Nothing in RelayState decides anything.
 */
import appConfig from '../../../../app.config'
import { getSafeRedirect } from '../../../lib/safe-redirect'
import type { RequestContext } from '../../request-context'
import { readSsoBinding } from '../browser-binding'
import { getSsoConnection, type SsoConnectionView } from '../connections'
import { finishSsoLogin, refuseSsoStep, seeOther } from '../sso-login'
import { mapSamlProfileToClaims, readSamlAssertionFacts, readSamlResponseDetails, SamlClaimsRefusal, type SamlClaimsRefusalReason, type SamlProfileLike } from './saml-attributes'
import { buildSaml } from './saml-config'
import { claimsFromValidatedResult, consumeSamlCompletion, storeSamlValidatedResult, toValidatedResult, type SamlCompletionRefusal } from './saml-flows'
import { getSamlServiceProviderUrls } from './saml-metadata'
import { isSamlBodyTooLarge, preparseSamlResponse, type SamlPreparseRefusal } from './saml-preparse'
import { recordConsumedSamlAssertion } from './saml-replay-store'
import { createSamlRequestCache } from './saml-request-cache'
import { checkSamlResponseAddressing, classifySamlValidationError, getSamlResponseFailureStatus, type SamlValidationFailure } from './saml-response-checks'
import { findSigningCertificate } from './saml-signing-certificate'

/** Reason codes of SAML refusals (the `reason` of `sso.sign_in.failed`). */
export type SamlRefusalReason =
  | SamlPreparseRefusal
  | SamlValidationFailure
  | SamlClaimsRefusalReason
  | SamlCompletionRefusal
  | 'assertion_issuer_mismatch'
  | 'response_issuer_mismatch'
  | 'response_unreadable'
  | 'destination_missing'
  | 'destination_mismatch'
  | 'no_bearer_confirmation'
  | 'recipient_mismatch'
  | 'replayed'
  | 'already_answered'

/** The IdP URL (HTTP-Redirect binding) carrying an AuthnRequest whose ID is the flow's nonce. */
export async function buildSamlAuthorizationUrl(ctx: RequestContext, connection: SsoConnectionView, request: { requestId: string; isForceAuthn: boolean }): Promise<string> {
  const saml = buildSaml(connection, {
    appUrl: ctx.env.appUrl,
    cacheProvider: createSamlRequestCache(ctx, connection.id),
    requestId: request.requestId,
    isForceAuthn: request.isForceAuthn,
  })
  // RelayState is not used for SP-initiated logins: the landing page is stored in the flow.
  return saml.getAuthorizeUrlAsync('', undefined, {})
}

/**
 * The POST's `SAMLResponse`, reading at most `maxBytes` of body whatever `Content-Length` said (a
 * chunked or lying request would otherwise be buffered whole before any size check: memory
 * exhaustion, OWASP ASVS 13.1.3). `too_large` past the limit; null for anything but a form.
 */
async function readSamlPost(request: Request, maxBytes: number): Promise<{ samlResponse: string | null; relayState: string | null } | null | 'too_large'> {
  const contentType = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase()
  if (contentType !== 'application/x-www-form-urlencoded' || !request.body) return null
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let byteCount = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    byteCount += value.byteLength
    if (byteCount > maxBytes) {
      await reader.cancel().catch(() => undefined)
      return 'too_large'
    }
    chunks.push(value)
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
  return { samlResponse: form.get('SAMLResponse'), relayState: form.get('RelayState') }
}

/** True when the Response element names no request (`InResponseTo`): an unsolicited, IdP-initiated response. */
function isUnsolicitedResponse(xml: string): boolean {
  const responseElement = /<(?:[A-Za-z_][\w.-]*:)?Response\b[^>]*>/.exec(xml)?.[0] ?? ''
  return !/\sInResponseTo\s*=/.test(responseElement)
}

/**
 * Step 1, `POST /api/auth/saml/<connectionId>/acs`. Reads no cookie and sets none; every refusal
 * is a 4xx page and exactly one `sso.sign_in.failed` event.
 */
export async function acceptSamlResponse(ctx: RequestContext, connectionId: string): Promise<Response> {
  await ctx.enforcePerIpRateLimit('ssoCallbackPerIp')
  const connection = await getSsoConnection(ctx.db, connectionId)
  if (!connection || connection.protocol !== 'saml') return refuseSsoStep(ctx, 'unknown_connection', { connectionId })

  const declaredLength = ctx.request.headers.get('content-length')
  if (isSamlBodyTooLarge(declaredLength === null ? null : Number(declaredLength), appConfig.sso.samlMaxPostBytes)) {
    return refuseSsoStep(ctx, 'body_too_large', { connectionId, organizationId: connection.organizationId })
  }
  const posted = await readSamlPost(ctx.request, appConfig.sso.samlMaxPostBytes)
  if (posted === 'too_large') return refuseSsoStep(ctx, 'body_too_large', { connectionId, organizationId: connection.organizationId })
  const samlResponse = posted?.samlResponse ?? null
  const preparsed = preparseSamlResponse(samlResponse, { maxBytes: appConfig.sso.samlMaxPostBytes })
  if (!preparsed.isAccepted) return refuseSsoStep(ctx, preparsed.reason, { connectionId, organizationId: connection.organizationId })
  // IdP-initiated login (off by default): only when the connection allows it AND the response
  // names no request; a response that names one is always checked against this connection's flows.
  const isIdpInitiated = connection.samlIsIdpInitiatedAllowed && isUnsolicitedResponse(preparsed.xml)

  const cache = createSamlRequestCache(ctx, connection.id)
  let profile: SamlProfileLike
  try {
    const saml = buildSaml(connection, { appUrl: ctx.env.appUrl, cacheProvider: cache, isIdpInitiated })
    const validated = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse! })
    if (!validated.profile) return refuseSsoStep(ctx, 'no_assertion', { connectionId, organizationId: connection.organizationId })
    profile = validated.profile as unknown as SamlProfileLike
  } catch (error) {
    const classified = classifySamlValidationError(error)
    return refuseSsoStep(ctx, classified.reason, { connectionId, organizationId: connection.organizationId, check: classified.statusCode })
  }

  // node-saml checks the status only when there is no assertion (see getSamlResponseFailureStatus).
  const failureStatus = getSamlResponseFailureStatus(profile)
  if (failureStatus) return refuseSsoStep(ctx, 'idp_status', { connectionId, organizationId: connection.organizationId, check: failureStatus })

  const urls = getSamlServiceProviderUrls(ctx.env.appUrl, connection.id)
  const [addressingFailure] = checkSamlResponseAddressing(profile, { idpEntityId: connection.samlIdpEntityId ?? '', acsUrl: urls.acsUrl })
  if (addressingFailure) return refuseSsoStep(ctx, addressingFailure.reason as SamlRefusalReason, { connectionId, organizationId: connection.organizationId, check: addressingFailure.check })

  let claims
  try {
    claims = mapSamlProfileToClaims(profile, connection)
  } catch (error) {
    if (error instanceof SamlClaimsRefusal) return refuseSsoStep(ctx, error.reason, { connectionId, organizationId: connection.organizationId })
    throw error
  }
  const facts = readSamlAssertionFacts(profile)
  // Replay across every instance: the assertion ID is unique per connection until it expires.
  const isFirstUse = await recordConsumedSamlAssertion(ctx, {
    connectionId: connection.id,
    assertionId: facts.assertionId,
    // Without a NotOnOrAfter the assertion is still bounded by the maximum assertion age.
    notOnOrAfter: facts.notOnOrAfter ?? new Date(ctx.now.getTime() + appConfig.sso.samlMaxAssertionAgeMs),
    clockSkewMs: appConfig.sso.samlAcceptedClockSkewMs,
  })
  if (!isFirstUse) return refuseSsoStep(ctx, 'replayed', { connectionId, organizationId: connection.organizationId })

  if (isIdpInitiated) {
    // No flow and no browser binding exist for an unsolicited response: it signs in here, and the
    // landing page is RelayState only as a same-origin path. This is why the switch is off by
    // default (login CSRF: a response for the attacker's account can be posted into any browser).
    const unsolicited = { purpose: 'sign_in', redirectTo: getSafeRedirect(posted?.relayState, '/app'), requestingUserId: null, requestingSessionId: null, createdAt: ctx.now } as const
    return finishSsoLogin(ctx, connection, unsolicited, claims)
  }

  const flowId = cache.getAnsweredFlowId()
  // Only the doctor shows which listed certificate signed (a second signature check; see the module).
  const signingCertificate = cache.getAnsweredFlowPurpose() === 'test' ? findSigningCertificate(preparsed.xml, connection.samlIdpCertificates ?? [], ctx.now) : undefined
  const stored = flowId
    ? await storeSamlValidatedResult(ctx, {
        flowId,
        connectionId: connection.id,
        result: toValidatedResult(claims, { ...readSamlResponseDetails(profile), signingCertificate, assertionId: facts.assertionId, isIdpInitiated: false }),
      })
    : null
  if (!stored) return refuseSsoStep(ctx, 'already_answered', { connectionId, organizationId: connection.organizationId })
  return seeOther(ctx, `${urls.completeUrl}?ticket=${encodeURIComponent(stored.ticket)}`)
}

/**
 * Step 2, `GET /api/auth/saml/<connectionId>/complete?ticket=…`: consumes the flow in the browser
 * that started it (the Lax binding cookie), on this connection, once; then the one SSO completion.
 */
export async function completeSamlLogin(ctx: RequestContext, connectionId: string): Promise<Response> {
  await ctx.enforcePerIpRateLimit('ssoCallbackPerIp')
  const ticket = new URL(ctx.request.url).searchParams.get('ticket') ?? ''
  const completion = await consumeSamlCompletion(ctx, { ticket, browserBinding: readSsoBinding(ctx.cookies, ctx.env.appUrl), connectionId })
  if (!completion.isConsumed) return refuseSsoStep(ctx, completion.reason, { connectionId })
  const connection = await getSsoConnection(ctx.db, connectionId)
  if (!connection || connection.protocol !== 'saml') return refuseSsoStep(ctx, 'unknown_connection', { connectionId })
  const { nameIdFormat, attributeNames = [], signingCertificate = null } = completion.result
  const details = { nameIdFormat, attributeNames, signingCertificate }
  return finishSsoLogin(ctx, connection, completion.flow, claimsFromValidatedResult(completion.result), details)
}

