/**
 * The connection doctor's latest result: every check with pass or fail and its reason, and the
 * claims as validated. The server stores only non-secret values (no tokens, no raw responses).
 */
import type { ConnectionView } from './connection-form'
import { LocalTime } from '../../local-time'
import { Badge } from '../../ui/badge'

const CHECK_LABELS: Record<string, string> = {
  discovery_issuer: 'Discovery document issuer',
  state: 'State',
  pkce: 'PKCE',
  iss: 'Issuer (iss)',
  signature: 'Signature and key (kid)',
  audience: 'Audience (aud / azp)',
  times: 'Times (exp, iat)',
  nonce: 'Nonce',
  email: 'Email',
  email_verified: 'Email verified by the IdP',
  domain_verified: 'Domain verified for this organization',
  role_mapping: 'Groups and role',
  idp_mfa: 'MFA at the IdP (amr / acr)',
  response: 'Response from the IdP',
  saml_algorithm: 'Algorithms (no SHA-1, no DTD, not encrypted)',
  saml_issuer: 'Issuer',
  saml_destination: 'Destination (this ACS)',
  saml_recipient: 'Recipient (this ACS)',
  saml_in_response_to: 'InResponseTo (this request)',
  saml_status: 'Status (Success)',
  saml_replay: 'Not seen before (replay)',
}

const CLAIM_LABELS: Record<string, string> = {
  subject: 'Subject (sub)',
  email: 'Email',
  emailVerified: 'Email verified',
  name: 'Name',
  groups: 'Groups',
  mappedRole: 'Role it maps to',
  authnContext: 'Authentication context',
  nameIdFormat: 'NameID format sent',
  attributeNames: 'Attributes sent (names)',
  signingCertificate: 'Certificate that verified the signature',
}

/** Where SAML names a check or claim differently from OIDC (the doctor stores the shared names). */
const SAML_LABELS: Record<string, string> = {
  signature: 'Signature (Response and Assertion)',
  audience: 'Audience (SP entity ID)',
  times: 'Times (NotBefore, NotOnOrAfter, IssueInstant)',
  subject: 'Subject (NameID)',
  authnContext: 'AuthnContextClassRef',
  emailVerified: 'Email verified by the IdP (SAML has none: the domain decides)',
}

/** A claim value as text: lists joined, objects as compact JSON, booleans as yes/no. */
function formatClaim(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return value ? 'Yes' : 'No'
  if (Array.isArray(value)) return value.length ? value.map(formatClaim).join(', ') : '—'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

export function DoctorResult({ result, testedAt, protocol = 'oidc' }: { result: NonNullable<ConnectionView['lastTestResult']>; testedAt: string | null; protocol?: ConnectionView['protocol'] }) {
  const claims = Object.entries(result.claims ?? {})
  const overrides = protocol === 'saml' ? SAML_LABELS : {}
  return (
    <div className="flex flex-col gap-4" data-testid="doctor-result">
      <p className="flex flex-wrap items-center gap-2 text-sm text-slate-700">
        {result.isSuccessful ? <Badge tone="success">Passed</Badge> : <Badge tone="danger">Failed</Badge>}
        {testedAt && (
          <span>
            Tested <LocalTime iso={testedAt} />
          </span>
        )}
      </p>
      <ul className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Checks">
        {result.checks.map((check) => (
          <li key={check.name} className="flex flex-wrap items-baseline justify-between gap-2 px-4 py-2 text-sm" data-testid="doctor-check">
            <span className="font-medium text-slate-900">{overrides[check.name] ?? CHECK_LABELS[check.name] ?? check.name}</span>
            <span className="flex items-baseline gap-2">
              {check.reason && <span className="text-slate-600">{check.reason}</span>}
              {check.isPassed ? <Badge tone="success">Pass</Badge> : <Badge tone="danger">Fail</Badge>}
            </span>
          </li>
        ))}
      </ul>
      {claims.length > 0 && (
        <div>
          <h3 className="mb-2 text-sm font-semibold text-slate-900">Validated claims</h3>
          <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[12rem_minmax(0,1fr)]" data-testid="doctor-claims">
            {claims.map(([name, value]) => (
              <div key={name} className="contents">
                <dt className="text-slate-500">{overrides[name] ?? CLAIM_LABELS[name] ?? name}</dt>
                <dd className="break-words font-mono text-slate-900">{formatClaim(value)}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
    </div>
  )
}
