/**
 * Server-only: re-authentication at the identity provider (SPEC §3 step-up for SSO users, who have
 * no password to type). The flow asked for a fresh login (`prompt=login`, `max_age=0`; SAML
 * `ForceAuthn`); the callback accepts it only for the session that asked, the same person at the
 * same connection, and a login that really happened after the flow started — some IdPs ignore the
 * request and answer from their own session, which would prove nothing about who is present now.
 */
import appConfig from '../../../app.config'
import type { SsoLoginFlow } from '../../../db/schema'
import { auditOwnAction } from '../audit/request-audit'
import { rotateSessionAndSetCookie } from '../auth/session-actions'
import type { RequestContext } from '../request-context'
import type { SsoConnectionView } from './connections'
import { findSsoIdentityUser, type SsoClaims } from './sso-sign-in'

export type SsoStepUpRefusalReason = 'reauth_session_mismatch' | 'reauth_other_user' | 'reauth_stale'

export class SsoStepUpRefusal extends Error {
  override name = 'SsoStepUpRefusal'
  constructor(
    readonly reason: SsoStepUpRefusalReason,
    readonly userId: string | null,
  ) {
    super(`SSO re-authentication refused: ${reason}`)
  }
}

/**
 * The session that started a `reauth` or `test` flow, when this browser still holds it; a flow
 * finished from another session (or after a sign-out) is refused.
 */
export async function requireRequestingSession(ctx: RequestContext, flow: Pick<SsoLoginFlow, 'requestingSessionId' | 'requestingUserId'>) {
  const auth = await ctx.getAuth()
  if (!auth || auth.session.id !== flow.requestingSessionId || auth.user.id !== flow.requestingUserId) {
    throw new SsoStepUpRefusal('reauth_session_mismatch', flow.requestingUserId)
  }
  return auth
}

/**
 * Stamps the requesting session as re-authenticated (new token, `reauthenticated_with = 'idp'`)
 * when the IdP's answer is a fresh login of the same identity; throws `SsoStepUpRefusal` otherwise.
 */
export async function completeSsoStepUp(
  ctx: RequestContext,
  connection: Pick<SsoConnectionView, 'id' | 'protocol'>,
  flow: Pick<SsoLoginFlow, 'createdAt' | 'requestingSessionId' | 'requestingUserId'>,
  claims: SsoClaims,
): Promise<void> {
  const auth = await requireRequestingSession(ctx, flow)
  const identityUser = await findSsoIdentityUser(ctx, connection.id, claims.subject)
  if (identityUser?.id !== auth.user.id) throw new SsoStepUpRefusal('reauth_other_user', auth.user.id)
  // Each protocol's own configured tolerance for the IdP's clock.
  const skewMs = connection.protocol === 'saml' ? appConfig.sso.samlAcceptedClockSkewMs : appConfig.sso.clockSkewSeconds * 1000
  const earliestAcceptedMs = flow.createdAt.getTime() - skewMs
  if (!claims.authTime || claims.authTime.getTime() < earliestAcceptedMs) throw new SsoStepUpRefusal('reauth_stale', auth.user.id)

  await rotateSessionAndSetCookie(ctx, auth.session, { reauthenticatedAt: ctx.now, reauthenticatedWith: 'idp' })
  await auditOwnAction(ctx, auth.user, 'auth.reauthenticated', { factor: 'idp', connectionId: connection.id })
}
