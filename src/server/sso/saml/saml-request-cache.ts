/**
 * Server-only: node-saml's `cacheProvider` backed by `sso_login_flows` (ADR 015).
 *
 * node-saml's own cache is one in-memory namespace for every IdP, and its request-id check is a
 * get followed by a remove. Both are wrong for a multi-tenant, multi-instance app: IdP A could
 * answer a request made to IdP B, another instance does not know the request, and two POSTs of
 * the same response racing each other both pass the get. Here:
 * - A request id exists only as the `nonce` of a flow row of *this* connection (unique index on
 *   (connection_id, nonce)); node-saml's key never leaves the connection.
 * - The first `getAsync` of a request id *claims* the flow with one conditional
 *   `UPDATE … SET answered_at WHERE answered_at IS NULL AND consumed_at IS NULL AND expires_at > now`:
 *   exactly one validation on any instance gets an answer. node-saml asks again for the
 *   `SubjectConfirmationData@InResponseTo` within the same validation, so the provider, built per
 *   request, remembers what it claimed.
 * - `removeAsync` (called after success *and* after a failed validation) marks the flow answered and
 *   never deletes it: the completion step still needs the row.
 */
import { and, eq, gt, isNull } from 'drizzle-orm'
import type { CacheItem, CacheProvider } from '@node-saml/node-saml'
import { ssoLoginFlows, type SsoLoginFlow } from '../../../../db/schema'
import type { Database } from '../../db/client'

export type SamlRequestCache = CacheProvider & {
  /** The flow this validation claimed through its `InResponseTo`, once `getAsync` succeeded. */
  getAnsweredFlowId: () => string | null
  /** That flow's purpose (`test` asks the ACS for what only the connection doctor shows). */
  getAnsweredFlowPurpose: () => SsoLoginFlow['purpose'] | null
}

/** A per-request cacheProvider for one connection's flows (build it next to the `SAML` instance). */
export function createSamlRequestCache(deps: { db: Database; now: Date }, connectionId: string): SamlRequestCache {
  const claimed = new Map<string, { flowId: string; purpose: SsoLoginFlow['purpose']; value: string }>()

  const flowOf = (requestId: string) => and(eq(ssoLoginFlows.connectionId, connectionId), eq(ssoLoginFlows.nonce, requestId))
  const isOpen = () => and(isNull(ssoLoginFlows.answeredAt), isNull(ssoLoginFlows.consumedAt), gt(ssoLoginFlows.expiresAt, deps.now))

  return {
    /**
     * node-saml calls this while building an AuthnRequest with the id it generated (ours, through
     * `generateUniqueId`): the flow must already exist, so a request can never outlive its row.
     */
    async saveAsync(requestId: string): Promise<CacheItem | null> {
      const [flow] = await deps.db.select({ createdAt: ssoLoginFlows.createdAt }).from(ssoLoginFlows).where(and(flowOf(requestId), isOpen())).limit(1)
      if (!flow) throw new Error('SAML request id has no open login flow of this connection: create the flow before the AuthnRequest')
      return { value: flow.createdAt.toISOString(), createdAt: flow.createdAt.getTime() }
    },

    /** The flow's creation instant when this validation owns the request id; null otherwise. */
    async getAsync(requestId: string): Promise<string | null> {
      const known = claimed.get(requestId)
      if (known) return known.value
      if (!requestId || requestId.length > 128) return null
      const [result] = await deps.db.update(ssoLoginFlows).set({ answeredAt: deps.now }).where(and(flowOf(requestId), isOpen()))
      if (result.affectedRows !== 1) return null
      const [flow] = await deps.db.select({ id: ssoLoginFlows.id, purpose: ssoLoginFlows.purpose, createdAt: ssoLoginFlows.createdAt }).from(ssoLoginFlows).where(flowOf(requestId)).limit(1)
      if (!flow) return null
      const value = flow.createdAt.toISOString()
      claimed.set(requestId, { flowId: flow.id, purpose: flow.purpose, value })
      return value
    },

    /** Marks the flow answered (idempotent); never deletes it. */
    async removeAsync(requestId: string | null): Promise<string | null> {
      if (!requestId || requestId.length > 128) return null
      await deps.db.update(ssoLoginFlows).set({ answeredAt: deps.now }).where(and(flowOf(requestId), isNull(ssoLoginFlows.answeredAt)))
      return requestId
    },

    getAnsweredFlowId: () => [...claimed.values()][0]?.flowId ?? null,
    getAnsweredFlowPurpose: () => [...claimed.values()][0]?.purpose ?? null,
  }
}
