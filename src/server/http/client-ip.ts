/**
 * Server-only: the client's IP address, for rate limits, audit and the sessions list; and the
 * network a per-IP rate limit counts it in (`rateLimitSubjectForIp`).
 *
 * `X-Forwarded-For` is attacker-controlled except for the entries our own proxies appended, so
 * only the configured number of trusted hops is peeled off from the right (OWASP ASVS 14.x; the
 * left-most entry, which many libraries return, is whatever the client chose to send).
 */

import { isIP } from 'node:net'

type RequestWithAddress = Request & { ip?: string; context?: { clientAddress?: string } }

/** The socket's peer address as the server adapter reports it, or null (e.g. in-process calls). */
export function getSocketAddress(request: Request): string | null {
  const withAddress = request as RequestWithAddress
  return withAddress.ip ?? withAddress.context?.clientAddress ?? null
}

/** Normalises IPv4-mapped IPv6 (`::ffff:1.2.3.4`) so one client has one key. */
function normalizeIp(ip: string): string {
  const trimmed = ip.trim()
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed
}

/** The address `trustProxyHops` proxies away from us; the socket address when no proxy is trusted. */
export function getClientIp(request: Request, trustProxyHops: number): string {
  const socket = getSocketAddress(request)
  if (trustProxyHops <= 0) return normalizeIp(socket ?? 'unknown')
  const forwarded = (request.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  const chain = socket ? [...forwarded, socket] : forwarded
  const candidate = chain[chain.length - 1 - trustProxyHops] ?? chain[0] ?? 'unknown'
  return normalizeIp(candidate).slice(0, 45)
}

/** Prefix length of the IPv6 network one client is assumed to control (RFC 6177: a /64 per subnet, often /56 or /48 per site). */
const IPV6_CLIENT_PREFIX_GROUPS = 4

/** The subject every rate-limit bucket uses for an address that is not an IP (in-process calls, a misconfigured proxy). */
const UNKNOWN_CLIENT_SUBJECT = 'unknown'

/** `[v6]:port`, `[v6]` or `v4:port` (as some proxies write `X-Forwarded-For`) reduced to the address. */
function stripBracketsAndPort(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address)
  if (bracketed) return bracketed[1]!
  const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(address)
  return ipv4WithPort ? ipv4WithPort[1]! : address
}

/** The eight 16-bit groups of a valid IPv6 address (zone id already removed), expanding `::` and a dotted IPv4 tail. */
function parseIpv6Groups(address: string): number[] {
  let text = address
  const tail: number[] = []
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':')
    const [a, b, c, d] = text.slice(lastColon + 1).split('.').map(Number) as [number, number, number, number]
    tail.push((a << 8) | b, (c << 8) | d)
    text = text.endsWith('::', lastColon + 1) ? text.slice(0, lastColon + 1) : text.slice(0, lastColon)
  }
  const [left, right] = text.includes('::') ? text.split('::') : [text, undefined]
  const leftGroups = left ? left.split(':') : []
  const rightGroups = right ? right.split(':') : []
  const zeros: string[] = Array.from({ length: 8 - tail.length - leftGroups.length - rightGroups.length }, () => '0')
  return [...leftGroups, ...zeros, ...rightGroups].map((group) => parseInt(group, 16)).concat(tail)
}

/**
 * True for the IPv6 forms whose last 32 bits are a whole IPv4 client: IPv4-mapped (`::ffff:0:0/96`),
 * SIIT-translated (`::ffff:0:0:0/96`, RFC 7915) and the NAT64 well-known prefix (`64:ff9b::/96`,
 * RFC 6052). Keyed by their /64, every IPv4 client behind one translator would share one budget,
 * which one of them could spend for all (found by review).
 */
function carriesIpv4(groups: number[]): boolean {
  const prefix = groups.slice(0, 6).join(':')
  return prefix === '0:0:0:0:0:65535' || prefix === '0:0:0:0:65535:0' || prefix === '100:65435:0:0:0:0'
}

/**
 * The subject a per-IP rate limit counts `ip` under. An IPv4 address is itself. An IPv6 address
 * is its /64: one host is routinely given a whole /64 (SLAAC, privacy addresses, a VPS's block),
 * so keying on the /128 would hand one attacker 2^64 budgets for password spraying, reset mail,
 * sign-up floods and MFA guessing (OWASP ASVS 2.2.1; the same reasoning as RFC 6177 §2 and the
 * /64 granularity of common blocklists). An address that carries an IPv4 client (`::ffff:a.b.c.d`
 * in any spelling, SIIT, NAT64's `64:ff9b::/96`) is that IPv4 address. Anything that is not an IP address shares one bucket, so no
 * spelling of a bad value buys a fresh budget. Audit rows and session records keep the full address.
 */
export function rateLimitSubjectForIp(ip: string): string {
  const address = stripBracketsAndPort(ip.trim())
  const withoutZone = address.split('%', 1)[0]!
  const version = isIP(withoutZone)
  if (version === 4) return withoutZone
  if (version !== 6) return UNKNOWN_CLIENT_SUBJECT
  const groups = parseIpv6Groups(withoutZone.toLowerCase())
  if (carriesIpv4(groups)) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.')
  return `${groups
    .slice(0, IPV6_CLIENT_PREFIX_GROUPS)
    .map((group) => group.toString(16))
    .join(':')}::/64`
}
