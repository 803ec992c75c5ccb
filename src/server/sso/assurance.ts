/**
 * Server-only, pure: what an IdP's authentication assertion means for MFA (ADR 014). One function
 * for OIDC (`amr`, RFC 8176; `acr`) and SAML (`AuthnContextClassRef`, passed as `acr`).
 *
 * Under `trust_idp_mfa` the session starts MFA-satisfied only when an asserted value is one the
 * connection lists (exact, case-sensitive match; the lists are empty by default). Under
 * `require_gatehouse_mfa` nothing the IdP says counts. Either way the assertion is recorded.
 */
import type { SsoMfaMode } from '../../../db/schema'

/** `sessions.idp_authn_context` is varchar(255). */
export const MAX_AUTHN_CONTEXT_CHARS = 255

export type IdpAssertion = { amr?: unknown; acr?: unknown }

export type IdpMfaDecision = {
  /** Write `mfa_satisfied_at = now` and `mfa_method = 'idp'`. */
  isMfaSatisfiedByIdp: boolean
  /** Bounded, printable record of what was asserted, for `sessions.idp_authn_context`; null when nothing was. */
  authnContext: string | null
}

/** The asserted `amr` as strings (an IdP may send anything; non-strings are ignored). */
function amrValues(amr: unknown): string[] {
  if (typeof amr === 'string') return [amr]
  return Array.isArray(amr) ? amr.filter((value): value is string => typeof value === 'string') : []
}

function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?')
}

/** Formats an assertion as `amr=pwd,otp acr=…`, bounded to the column. */
export function formatAuthnContext(assertion: IdpAssertion): string | null {
  const parts: string[] = []
  const amr = amrValues(assertion.amr)
  if (amr.length) parts.push(`amr=${amr.map(printable).join(',')}`)
  if (typeof assertion.acr === 'string' && assertion.acr) parts.push(`acr=${printable(assertion.acr)}`)
  return parts.length ? parts.join(' ').slice(0, MAX_AUTHN_CONTEXT_CHARS) : null
}

/** Decides whether the IdP's assertion satisfies MFA for this organization and connection. */
export function decideIdpMfa(
  mode: SsoMfaMode,
  connection: { mfaAmrValues: readonly string[]; mfaAcrValues: readonly string[] },
  assertion: IdpAssertion,
): IdpMfaDecision {
  const authnContext = formatAuthnContext(assertion)
  if (mode !== 'trust_idp_mfa') return { isMfaSatisfiedByIdp: false, authnContext }
  const hasListedAmr = amrValues(assertion.amr).some((value) => connection.mfaAmrValues.includes(value))
  const hasListedAcr = typeof assertion.acr === 'string' && connection.mfaAcrValues.includes(assertion.acr)
  return { isMfaSatisfiedByIdp: hasListedAmr || hasListedAcr, authnContext }
}
