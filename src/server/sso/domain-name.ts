/**
 * Server-only, pure: the one normal form of a domain name a Gatehouse organization can claim.
 * Lower-case ASCII, IDNs as punycode (UTS #46 via WHATWG `domainToASCII`), no trailing dot, at
 * least two labels, never an IP address. One spelling per domain keeps `verified_domain` unique
 * in fact and not only in bytes (`Acme.COM.` and `acme.com` are one claim).
 */
import { isIP } from 'node:net'
import { domainToASCII } from 'node:url'

const MAX_DOMAIN_LENGTH = 253
/** RFC 1035 §2.3.1 letters-digits-hyphen labels (punycode `xn--` labels are LDH too). */
const LABEL_PATTERN = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

export type DomainNameProblem = 'empty' | 'invalid' | 'ip_address' | 'single_label' | 'too_long'

/** The normalised domain, or why the input is not a claimable domain name. */
export function normalizeDomainName(input: string): { domain: string } | { problem: DomainNameProblem } {
  const trimmed = input.trim().replace(/\.$/, '')
  if (!trimmed) return { problem: 'empty' }
  if (isIP(trimmed) || isIP(trimmed.replace(/^\[(.*)\]$/, '$1'))) return { problem: 'ip_address' }
  // Anything URL-ish (scheme, path, port, credentials, wildcard) is refused before conversion,
  // since `domainToASCII` would otherwise accept some of it.
  if (/[/:@*\s\\?#]/.test(trimmed)) return { problem: 'invalid' }
  const ascii = domainToASCII(trimmed.toLowerCase())
  if (!ascii) return { problem: 'invalid' }
  if (ascii.length > MAX_DOMAIN_LENGTH) return { problem: 'too_long' }
  const labels = ascii.split('.')
  if (labels.length < 2) return { problem: 'single_label' }
  if (!labels.every((label) => LABEL_PATTERN.test(label))) return { problem: 'invalid' }
  // An all-numeric last label is an IPv4 address in disguise (WHATWG would parse `1.2.3.4`).
  if (/^[0-9]+$/.test(labels.at(-1)!)) return { problem: 'ip_address' }
  return { domain: ascii }
}

/** Human text for each problem (CLI and console). */
export const DOMAIN_NAME_PROBLEM_MESSAGES: Record<DomainNameProblem, string> = {
  empty: 'enter a domain name',
  invalid: 'not a valid domain name (letters, digits, hyphens and dots; no scheme, port or path)',
  ip_address: 'an IP address is not a domain',
  single_label: 'a domain needs at least two labels (example.com)',
  too_long: 'a domain name has at most 253 characters',
}

/** The domain part of a normalised email address (`user@acme.com` → `acme.com`), or null. */
export function getEmailDomain(email: string): string | null {
  const at = email.lastIndexOf('@')
  if (at < 0) return null
  const normalized = normalizeDomainName(email.slice(at + 1))
  return 'domain' in normalized ? normalized.domain : null
}
