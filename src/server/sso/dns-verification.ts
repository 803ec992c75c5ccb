/**
 * Server-only: checks a domain-verification TXT record. The admin publishes
 * `_gatehouse-verification.<domain> TXT "gatehouse-verification=<token>"`; a check resolves every
 * TXT record of that name (joining each record's character-strings, RFC 7208 §3.3 style, since
 * DNS splits long values into 255-byte chunks) and looks for the exact value.
 *
 * The resolver comes from `DNS_SERVERS` (the system's when unset) and the check has a short,
 * hard timeout: the admin is waiting on it, and a slow resolver must not hold a request open.
 */
import { Resolver } from 'node:dns/promises'

export const VERIFICATION_RECORD_PREFIX = '_gatehouse-verification'
export const VERIFICATION_VALUE_PREFIX = 'gatehouse-verification='

/** How long one check may take, all servers and retries included. */
export const DNS_CHECK_TIMEOUT_MS = 3000

export type DnsCheckOutcome = 'verified' | 'no_record' | 'wrong_value' | 'dns_error'

export type DnsCheckResult = { outcome: DnsCheckOutcome; /** Resolver error code (`ETIMEOUT`, `ECONNREFUSED`, …) for `dns_error`. */ errorCode?: string }

/** The DNS name the TXT record lives at. */
export function verificationRecordName(domain: string): string {
  return `${VERIFICATION_RECORD_PREFIX}.${domain}`
}

/** The exact TXT value that proves control of the domain. */
export function verificationRecordValue(token: string): string {
  return `${VERIFICATION_VALUE_PREFIX}${token}`
}

/** "No such name" and "name without TXT" both mean the record is not published (yet). */
const NO_RECORD_CODES = new Set(['ENODATA', 'ENOTFOUND'])

/** Resolves the verification record of `domain` and compares it with `gatehouse-verification=<token>`. */
export async function checkVerificationRecord(
  domain: string,
  token: string,
  options: { servers?: readonly string[]; timeoutMs?: number } = {},
): Promise<DnsCheckResult> {
  const timeoutMs = options.timeoutMs ?? DNS_CHECK_TIMEOUT_MS
  const servers = options.servers ?? []
  // One try per server, each with the whole budget divided among them; the outer timer is the real cap.
  const resolver = new Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / Math.max(1, servers.length))), tries: 1 })
  if (servers.length > 0) resolver.setServers([...servers])
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      resolver.cancel()
      reject(Object.assign(new Error('DNS check timed out'), { code: 'ETIMEOUT' }))
    }, timeoutMs)
  })
  let records: string[][]
  try {
    records = await Promise.race([resolver.resolveTxt(verificationRecordName(domain)), deadline])
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'EUNKNOWN'
    if (NO_RECORD_CODES.has(code)) return { outcome: 'no_record' }
    return { outcome: 'dns_error', errorCode: code }
  } finally {
    clearTimeout(timer)
  }
  const values = records.map((chunks) => chunks.join(''))
  const expected = verificationRecordValue(token)
  if (values.some((value) => value.trim() === expected)) return { outcome: 'verified' }
  if (values.some((value) => value.trim().startsWith(VERIFICATION_VALUE_PREFIX))) return { outcome: 'wrong_value' }
  return { outcome: 'no_record' }
}
