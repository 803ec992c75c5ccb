/**
 * Server-only: the SAML hand-off between the ACS (step 1, a cross-site POST that reads no cookie)
 * and the completion (step 2, a same-origin GET that the Lax binding cookie reaches), on the
 * `sso_login_flows` row the request cache answered (ADR 015).
 *
 * - Step 1 stores the validated result and the SHA-256 of a fresh 256-bit ticket on an answered,
 *   unconsumed, unexpired flow, once (`completion_ticket_hash IS NULL`).
 * - Step 2 consumes the flow by the ticket's hash with one conditional UPDATE, so exactly one GET
 *   wins on any instance, then checks the binding cookie in constant time and the connection of the
 *   URL; the flow is spent before those checks, so a refused completion cannot be retried either.
 */
import { and, eq, gt, isNotNull, isNull } from 'drizzle-orm'
import { ssoLoginFlows, type SsoFlowValidatedResult, type SsoLoginFlow } from '../../../../db/schema'
import type { Database } from '../../db/client'
import { generateFlowRandomValue, hashFlowValue, isSameHash } from '../login-flows'
import type { SsoClaims } from '../sso-sign-in'

/** JSON-safe form of claims for `validated_result`. */
export function toValidatedResult(claims: SsoClaims, extra: Omit<SsoFlowValidatedResult, 'claims'>): SsoFlowValidatedResult {
  return { claims: { ...claims, authTime: claims.authTime ? claims.authTime.toISOString() : null }, ...extra }
}

/** Claims back from `validated_result`. */
export function claimsFromValidatedResult(result: SsoFlowValidatedResult): SsoClaims {
  return { ...result.claims, authTime: result.claims.authTime ? new Date(result.claims.authTime) : null }
}

/**
 * Step 1: stores the result on the answered flow and returns the one-time ticket for
 * `…/complete?ticket=`; null when the flow is not answered, already has a result, is consumed or
 * expired, or belongs to another connection.
 */
export async function storeSamlValidatedResult(
  deps: { db: Database; now: Date },
  input: { flowId: string; connectionId: string; result: SsoFlowValidatedResult },
): Promise<{ ticket: string } | null> {
  const ticket = generateFlowRandomValue()
  const [update] = await deps.db
    .update(ssoLoginFlows)
    .set({ validatedResult: input.result, completionTicketHash: hashFlowValue(ticket) })
    .where(
      and(
        eq(ssoLoginFlows.id, input.flowId),
        eq(ssoLoginFlows.connectionId, input.connectionId),
        isNotNull(ssoLoginFlows.answeredAt),
        isNull(ssoLoginFlows.completionTicketHash),
        isNull(ssoLoginFlows.consumedAt),
        gt(ssoLoginFlows.expiresAt, deps.now),
      ),
    )
  return update.affectedRows === 1 ? { ticket } : null
}

export type SamlCompletionRefusal = 'unknown_ticket' | 'expired' | 'already_consumed' | 'browser_mismatch' | 'connection_mismatch'

export type SamlCompletion =
  | { isConsumed: true; flow: SsoLoginFlow; result: SsoFlowValidatedResult }
  | { isConsumed: false; reason: SamlCompletionRefusal; flow: SsoLoginFlow | null }

/** Step 2: consumes the flow a ticket names, in the browser that started it, on the connection of the URL. */
export async function consumeSamlCompletion(
  deps: { db: Database; now: Date },
  input: { ticket: string; browserBinding: string | null; connectionId: string },
): Promise<SamlCompletion> {
  if (!input.ticket || input.ticket.length > 128) return { isConsumed: false, reason: 'unknown_ticket', flow: null }
  const ticketHash = hashFlowValue(input.ticket)
  const [flow] = await deps.db.select().from(ssoLoginFlows).where(eq(ssoLoginFlows.completionTicketHash, ticketHash)).limit(1)
  if (!flow || !flow.validatedResult) return { isConsumed: false, reason: 'unknown_ticket', flow: null }
  const [update] = await deps.db
    .update(ssoLoginFlows)
    .set({ consumedAt: deps.now })
    .where(and(eq(ssoLoginFlows.id, flow.id), eq(ssoLoginFlows.completionTicketHash, ticketHash), isNull(ssoLoginFlows.consumedAt), gt(ssoLoginFlows.expiresAt, deps.now)))
  if (update.affectedRows !== 1) return { isConsumed: false, reason: flow.consumedAt || deps.now < flow.expiresAt ? 'already_consumed' : 'expired', flow }
  const consumed = { ...flow, consumedAt: deps.now }
  if (!input.browserBinding || !isSameHash(hashFlowValue(input.browserBinding), flow.browserBindingHash)) return { isConsumed: false, reason: 'browser_mismatch', flow: consumed }
  if (flow.connectionId !== input.connectionId) return { isConsumed: false, reason: 'connection_mismatch', flow: consumed }
  return { isConsumed: true, flow: consumed, result: flow.validatedResult }
}
