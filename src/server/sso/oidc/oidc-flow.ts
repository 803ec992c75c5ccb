/**
 * Server-only: the OIDC half of an SSO login with openid-client (SPEC §6; ADR 014) — the
 * authorization request out, and the validation of what comes back. Authorization code with PKCE
 * (S256, always, also for confidential clients), `state` and `nonce`; the ID token's signature,
 * issuer, audience, expiry and nonce are checked by openid-client (non-repudiation checks on), the
 * audience more strictly here (our client id and nothing else, `azp` ours when present), and the
 * RFC 9207 `iss` parameter whenever the IdP advertises it. One redirect URI per connection and
 * the flow row bound to the browser defend against mix-up for IdPs that do not send `iss`.
 */
import * as client from 'openid-client'
import type { RequestContext } from '../../request-context'
import { normalizeEmail } from '../../users/email'
import { DEFAULT_OIDC_SCOPES, type SsoConnectionView } from '../connections'
import { OutboundRequestError } from '../outbound-fetch'
import { readGroupsClaim } from '../role-mapping'
import type { SsoClaims } from '../sso-sign-in'
import { getOidcConfiguration } from './configuration'

/** The one redirect URI of a connection; the console shows it for registration at the IdP. */
export function getOidcRedirectUri(appUrl: URL, connectionId: string): string {
  return new URL(`/api/auth/oidc/${connectionId}/callback`, appUrl).toString()
}

/** What the authorization request carries; the flow row keeps the state's hash, the nonce and the sealed verifier. */
export type OidcAuthorizationRequest = { state: string; nonce: string; pkceVerifier: string; forceReauthentication: boolean }

/** The IdP URL the browser is sent to. `forceReauthentication` asks the IdP to authenticate again (step-up). */
export async function buildOidcAuthorizationUrl(ctx: RequestContext, connection: SsoConnectionView, request: OidcAuthorizationRequest): Promise<string> {
  const configuration = await getOidcConfiguration(ctx, connection)
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: getOidcRedirectUri(ctx.env.appUrl, connection.id),
    scope: connection.oidcScopes || DEFAULT_OIDC_SCOPES,
    response_type: 'code',
    state: request.state,
    nonce: request.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(request.pkceVerifier),
    code_challenge_method: 'S256',
    ...(request.forceReauthentication ? { prompt: 'login', max_age: '0' } : {}),
  })
  return url.toString()
}

/** Why an OIDC response was refused (the `reason` of `sso.sign_in.failed`), and which check said so. */
export class OidcResponseRefusal extends Error {
  override name = 'OidcResponseRefusal'
  constructor(
    readonly reason: 'idp_error' | 'token_invalid' | 'idp_unreachable',
    /** A short machine word naming the failed check (openid-client's error code), never the IdP's text. */
    readonly check: string,
  ) {
    super(`OIDC response refused: ${reason} (${check})`)
  }
}

/** A short, safe label for an error: codes are `UPPER_SNAKE` words; anything else becomes `unknown`. */
function checkName(error: unknown): string {
  const code = (error as { code?: unknown; error?: unknown } | null)?.code ?? (error as { error?: unknown } | null)?.error
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'unknown'
}

function claimText(value: unknown, maxLength: number): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength ? value : null
}

/**
 * OIDC Core §3.1.3.7 (3)–(5): the ID token is for this client alone. Every audience must be our
 * client id (we trust no other), and an `azp` must name us. openid-client checks `azp` only when
 * there are several audiences, and accepts extra audiences whenever `azp` names us.
 */
function requireOnlyThisClient(claims: Record<string, unknown>, clientId: string | null): void {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!clientId || audiences.some((audience) => audience !== clientId)) throw new OidcResponseRefusal('token_invalid', 'aud')
  if (claims.azp !== undefined && claims.azp !== clientId) throw new OidcResponseRefusal('token_invalid', 'azp')
}

const MAX_SUBJECT_LENGTH = 255
const MAX_EMAIL_LENGTH = 254
const MAX_NAME_LENGTH = 512
const MAX_GROUPS = 200

/**
 * Validates the authorization response at `callbackUrl` (the external URL the IdP redirected to)
 * and returns the claims. Claims come from the validated ID token; when email or groups are
 * missing there, one userinfo call with the expected subject fills them. The access token serves
 * only that call and is then dropped: nothing token-like is stored, logged or sent to the browser.
 */
export async function readOidcCallback(
  ctx: RequestContext,
  connection: SsoConnectionView,
  callbackUrl: URL,
  checks: { state: string; nonce: string; pkceVerifier: string },
): Promise<SsoClaims> {
  // An IdP error is answered before any token request; its `error_description` is never shown.
  const idpError = callbackUrl.searchParams.get('error')
  if (idpError !== null) throw new OidcResponseRefusal('idp_error', /^[a-z_]{1,64}$/.test(idpError) ? idpError : 'unknown')

  let claims: Record<string, unknown>
  let accessToken: string
  try {
    const configuration = await getOidcConfiguration(ctx, connection)
    const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: checks.pkceVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    })
    claims = (tokens.claims() ?? {}) as Record<string, unknown>
    requireOnlyThisClient(claims, connection.oidcClientId)
    accessToken = tokens.access_token
    const emailClaim = connection.oidcEmailClaim || 'email'
    const groupsClaim = connection.oidcGroupsClaim || 'groups'
    if (claims[emailClaim] === undefined || claims[groupsClaim] === undefined) {
      const userinfo = await client.fetchUserInfo(configuration, accessToken, String(claims.sub))
      claims = { ...userinfo, ...claims }
    }
  } catch (error) {
    if (error instanceof OidcResponseRefusal) throw error
    if (error instanceof OutboundRequestError || (error instanceof Error && /fetch failed|ECONNREFUSED|timeout|aborted/i.test(error.message))) {
      throw new OidcResponseRefusal('idp_unreachable', checkName(error))
    }
    throw new OidcResponseRefusal('token_invalid', checkName(error))
  }

  const subject = claimText(claims.sub, MAX_SUBJECT_LENGTH)
  if (!subject) throw new OidcResponseRefusal('token_invalid', 'sub')
  const rawEmail = claimText(claims[connection.oidcEmailClaim || 'email'], MAX_EMAIL_LENGTH)
  return {
    subject,
    email: rawEmail ? normalizeEmail(rawEmail) : null,
    // Only the boolean `true` counts: "true" as a string, or a missing claim, is not an assertion.
    isEmailVerifiedByIdp: claims.email_verified === true,
    name: claimText(claims[connection.oidcNameClaim || 'name'], MAX_NAME_LENGTH),
    groups: readGroupsClaim(claims[connection.oidcGroupsClaim || 'groups']).slice(0, MAX_GROUPS),
    amr: claims.amr,
    acr: claims.acr,
    authTime: typeof claims.auth_time === 'number' && Number.isFinite(claims.auth_time) ? new Date(claims.auth_time * 1000) : null,
  }
}
