/**
 * Server-only: the connection doctor — an admin's test sign-in through the real callback, shown as
 * the validated claims and every check with its outcome, before the connection is enabled or SSO is
 * enforced (SPEC §6). It writes nothing but its result: no session, user, identity or role.
 */
import { eq } from 'drizzle-orm'
import { ssoConnections, type SsoConnectionTestResult } from '../../../db/schema'
import type { RequestContext } from '../request-context'
import { decideIdpMfa } from './assurance'
import type { SsoConnectionView } from './connections'
import { getEmailDomain } from './domain-name'
import { getVerifiedDomain } from './domains'
import { mapGroupsToRole } from './role-mapping'
import type { SsoClaims } from './sso-sign-in'

type Check = SsoConnectionTestResult['checks'][number]

/** The checks openid-client made (all or nothing): named so the admin sees what was verified. */
const OIDC_PROTOCOL_CHECKS = ['discovery_issuer', 'state', 'pkce', 'iss', 'signature', 'audience', 'times', 'nonce'] as const
/** The checks the SAML ACS made before the claims reached the doctor (node-saml's and the app's own, ADR 015). */
const SAML_PROTOCOL_CHECKS = ['saml_algorithm', 'signature', 'saml_issuer', 'audience', 'saml_destination', 'saml_recipient', 'times', 'saml_in_response_to', 'saml_status', 'saml_replay'] as const

/** The protocol checks as passed (the response was accepted by the validating library and the ACS). */
function passedProtocolChecks(protocol: SsoConnectionView['protocol']): Check[] {
  return (protocol === 'saml' ? SAML_PROTOCOL_CHECKS : OIDC_PROTOCOL_CHECKS).map((name) => ({ name, isPassed: true }))
}

/** A failed test: which step refused the response (a short code, never the IdP's text). */
export function failedTestResult(reason: string, check?: string): SsoConnectionTestResult {
  return { isSuccessful: false, checks: [{ name: 'response', isPassed: false, reason: check ? `${reason}: ${check}` : reason }] }
}

/** What a protocol saw besides the claims, shown to the admin (SAML: the NameID format, attribute names, signing certificate). */
export type SsoProtocolDetails = { nameIdFormat: string | null; attributeNames: string[]; signingCertificate: { fingerprintSha256: string; subject: string } | null }

/**
 * Evaluates validated claims the way a real sign-in would, without signing anyone in: the email and
 * whether the IdP verified it, whether its domain is verified for this organization, the groups and
 * the role they map to, and whether the asserted `amr`/`acr` count as MFA.
 */
export async function evaluateTestClaims(ctx: RequestContext, connection: SsoConnectionView, claims: SsoClaims, details?: SsoProtocolDetails): Promise<SsoConnectionTestResult> {
  const checks: Check[] = passedProtocolChecks(connection.protocol)
  checks.push({ name: 'email', isPassed: claims.email !== null, ...(claims.email ? {} : { reason: 'no email claim' }) })
  if (connection.protocol === 'oidc') checks.push({ name: 'email_verified', isPassed: claims.isEmailVerifiedByIdp, ...(claims.isEmailVerifiedByIdp ? {} : { reason: 'email_verified is not true' }) })
  const domain = claims.email ? getEmailDomain(claims.email) : null
  const verified = domain ? await getVerifiedDomain(ctx.db, domain) : null
  const isDomainOk = verified?.organizationId === connection.organizationId
  checks.push({ name: 'domain_verified', isPassed: isDomainOk, ...(isDomainOk ? {} : { reason: domain ? `${domain} is not verified for this organization` : 'no domain' }) })
  const role = mapGroupsToRole(claims.groups, connection)
  checks.push({ name: 'role_mapping', isPassed: true, reason: `role ${role}` })
  const mfa = decideIdpMfa('trust_idp_mfa', connection, { amr: claims.amr, acr: claims.acr })
  checks.push({ name: 'idp_mfa', isPassed: true, reason: mfa.isMfaSatisfiedByIdp ? 'counts as MFA when the organization trusts the IdP' : 'does not count as MFA' })
  return {
    isSuccessful: checks.every((check) => check.isPassed),
    checks,
    claims: {
      subject: claims.subject,
      email: claims.email,
      emailVerified: claims.isEmailVerifiedByIdp,
      name: claims.name,
      groups: claims.groups,
      mappedRole: role,
      authnContext: mfa.authnContext,
      ...(details
        ? {
            nameIdFormat: details.nameIdFormat,
            attributeNames: details.attributeNames,
            signingCertificate: details.signingCertificate ? `${details.signingCertificate.subject} (SHA-256 ${details.signingCertificate.fingerprintSha256})` : null,
          }
        : {}),
    },
  }
}

/**
 * The doctor rule (SPEC §6): a connection counts as tested when its last test passed. Every change
 * of its settings or client secret clears the result (`updateOidcConnection`,
 * `replaceOidcClientSecret`), so "since its last change" holds by construction. Enabling or
 * disabling bumps `updated_at` but changes nothing that was tested, so it keeps the result: the
 * console's order — test, enable, enforce — must not ask for a second test.
 */
export function isTestedSinceLastChange(connection: { lastTestResult: SsoConnectionTestResult | null; lastTestedAt: Date | null }): boolean {
  return connection.lastTestResult?.isSuccessful === true && connection.lastTestedAt !== null
}

/** Stores the result for the admin. `updated_at` is untouched: a test is not a change of the connection. */
export async function recordTestResult(ctx: RequestContext, connectionId: string, result: SsoConnectionTestResult): Promise<void> {
  await ctx.db.update(ssoConnections).set({ lastTestResult: result, lastTestedAt: ctx.now }).where(eq(ssoConnections.id, connectionId))
}
