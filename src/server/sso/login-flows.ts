/**
 * Server-only: short-lived, single-use SSO login state (`sso_login_flows`), independent of the
 * protocol (OIDC now, SAML next). ADR 014 explains each choice; in short:
 *
 * - `state` is 256 random bits; only its SHA-256 is stored and looked up.
 * - The PKCE verifier is sealed with the secret box (purpose `sso-login-flow`, the flow id as
 *   associated data): a database read plus an intercepted code must not redeem the code.
 * - The flow is bound to the browser that started it: the row holds the SHA-256 of a random value
 *   kept in an HttpOnly cookie, compared in constant time at the callback (login CSRF, swapped
 *   callback URLs).
 * - Consumption is one conditional `UPDATE … WHERE consumed_at IS NULL AND expires_at > now`, so
 *   exactly one callback wins on any instance; a refused callback consumes the flow too.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { and, eq, gt, isNull, lt } from 'drizzle-orm'
import appConfig from '../../../app.config'
import { ssoLoginFlows, type SsoFlowPurpose, type SsoLoginFlow } from '../../../db/schema'
import { decryptSecret, encryptSecret, getSecretBoxKeyRing } from '../crypto/secret-box'
import type { Database } from '../db/client'
import { generateId } from '../ids'

/** HKDF purpose of the key sealing PKCE verifiers (its own key, ADR 014). */
export const SSO_LOGIN_FLOW_PURPOSE = 'sso-login-flow'

const RANDOM_VALUE_BYTES = 32

/** 256 random bits, base64url (43 characters): states, nonces, PKCE verifiers (RFC 7636 §4.1), binding values. */
export function generateFlowRandomValue(): string {
  return randomBytes(RANDOM_VALUE_BYTES).toString('base64url')
}

/** Hex SHA-256 of a flow value (state, browser binding). */
export function hashFlowValue(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

export type NewSsoLoginFlow = {
  connectionId: string
  purpose: SsoFlowPurpose
  /** Already sanitised with `getSafeRedirect`; the callback trusts only this. */
  redirectTo: string
  requestingUserId?: string | null
  requestingSessionId?: string | null
  /** The browser's binding cookie value (create one with `generateFlowRandomValue` when absent). */
  browserBinding: string
  /** OIDC: true (PKCE S256 always, also for confidential clients). SAML: false. */
  hasPkce: boolean
  /** A caller-chosen nonce (SAML: the AuthnRequest id); a random one otherwise. */
  nonce?: string
}

export type CreatedSsoLoginFlow = {
  flow: SsoLoginFlow
  /** Goes into the authorization request; never stored in the clear. */
  state: string
  nonce: string
  /** For `calculatePKCECodeChallenge`; null without PKCE. */
  pkceVerifier: string | null
}

/** Creates a flow row that expires after `sso.flowLifetimeSeconds`; returns the values to send to the IdP. */
export async function createSsoLoginFlow(deps: { db: Database; now: Date }, input: NewSsoLoginFlow): Promise<CreatedSsoLoginFlow> {
  const id = generateId()
  const state = generateFlowRandomValue()
  const nonce = input.nonce ?? generateFlowRandomValue()
  const pkceVerifier = input.hasPkce ? generateFlowRandomValue() : null
  const sealed = pkceVerifier ? encryptSecret(getSecretBoxKeyRing(SSO_LOGIN_FLOW_PURPOSE), new TextEncoder().encode(pkceVerifier), id) : null
  const flow: SsoLoginFlow = {
    id,
    stateHash: hashFlowValue(state),
    nonce,
    pkceVerifierSealed: sealed?.ciphertext ?? null,
    pkceVerifierKeyId: sealed?.keyId ?? null,
    connectionId: input.connectionId,
    purpose: input.purpose,
    redirectTo: input.redirectTo,
    requestingUserId: input.requestingUserId ?? null,
    requestingSessionId: input.requestingSessionId ?? null,
    browserBindingHash: hashFlowValue(input.browserBinding),
    createdAt: deps.now,
    expiresAt: new Date(deps.now.getTime() + appConfig.sso.flowLifetimeSeconds * 1000),
    consumedAt: null,
    answeredAt: null,
    completionTicketHash: null,
    validatedResult: null,
  }
  await deps.db.insert(ssoLoginFlows).values(flow)
  return { flow, state, nonce, pkceVerifier }
}

/** Why a callback's flow was refused; each is a reason code for `sso.sign_in.failed`. */
export type SsoFlowRefusal = 'unknown_state' | 'expired' | 'already_consumed' | 'browser_mismatch' | 'connection_mismatch'

export type SsoFlowConsumption =
  | { isConsumed: true; flow: SsoLoginFlow; pkceVerifier: string | null }
  | { isConsumed: false; reason: SsoFlowRefusal; /** The flow, when one matched the state (for audit context). */ flow: SsoLoginFlow | null }

/** Constant-time equality of two hex digests (browser bindings, tickets). */
export function isSameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex')
  const right = Buffer.from(b, 'hex')
  return left.length === right.length && timingSafeEqual(left, right)
}

/**
 * Consumes the flow a callback's `state` names. Exactly one caller gets `isConsumed: true`; it
 * then must match the browser binding (constant time) and the connection of the callback URL.
 * The flow is spent before those checks, so a refused callback cannot be retried either.
 */
export async function consumeSsoLoginFlow(
  deps: { db: Database; now: Date },
  input: { state: string; browserBinding: string | null; connectionId: string },
): Promise<SsoFlowConsumption> {
  if (!input.state || input.state.length > 512) return { isConsumed: false, reason: 'unknown_state', flow: null }
  const [flow] = await deps.db.select().from(ssoLoginFlows).where(eq(ssoLoginFlows.stateHash, hashFlowValue(input.state))).limit(1)
  if (!flow) return { isConsumed: false, reason: 'unknown_state', flow: null }
  const [result] = await deps.db
    .update(ssoLoginFlows)
    .set({ consumedAt: deps.now })
    .where(and(eq(ssoLoginFlows.id, flow.id), isNull(ssoLoginFlows.consumedAt), gt(ssoLoginFlows.expiresAt, deps.now)))
  if (result.affectedRows !== 1) return { isConsumed: false, reason: flow.consumedAt || deps.now < flow.expiresAt ? 'already_consumed' : 'expired', flow }
  const consumed = { ...flow, consumedAt: deps.now }
  if (!input.browserBinding || !isSameHash(hashFlowValue(input.browserBinding), flow.browserBindingHash)) {
    return { isConsumed: false, reason: 'browser_mismatch', flow: consumed }
  }
  if (flow.connectionId !== input.connectionId) return { isConsumed: false, reason: 'connection_mismatch', flow: consumed }
  const pkceVerifier =
    flow.pkceVerifierSealed && flow.pkceVerifierKeyId
      ? new TextDecoder().decode(decryptSecret(getSecretBoxKeyRing(SSO_LOGIN_FLOW_PURPOSE), { keyId: flow.pkceVerifierKeyId, ciphertext: flow.pkceVerifierSealed }, flow.id))
      : null
  return { isConsumed: true, flow: consumed, pkceVerifier }
}

/** Deletes every flow past its expiry, consumed or not; run on a schedule by every instance. */
export async function purgeExpiredSsoLoginFlows(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(ssoLoginFlows).where(lt(ssoLoginFlows.expiresAt, now))
  return result.affectedRows
}
