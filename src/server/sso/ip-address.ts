/**
 * Server-only, pure: what kind of network an IP address belongs to, for the outbound-fetch guard.
 * A URL an organization admin types (an SSO issuer, later a SAML metadata URL) must never make
 * Gatehouse call into its own network (server-side request forgery, OWASP ASVS 12.6.1 / CWE-918):
 * the cloud metadata service at 169.254.169.254, a database on 10.0.0.5, an admin port on ::1.
 *
 * IPv6 forms that embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are classified by the address they embed, so
 * `::ffff:127.0.0.1` is loopback and `::ffff:169.254.169.254` is link-local.
 */
import { isIPv4, isIPv6 } from 'node:net'

export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unique_local'
  | 'unspecified'
  | 'multicast'
  /** Documentation, benchmarking, broadcast, future use, Teredo and other never-legitimate targets. */
  | 'reserved'

type Range = { prefix: number[]; bits: number; kind: AddressKind }

/** RFC 6890 special-purpose IPv4 registry, the parts a server must never be sent to. */
const IPV4_RANGES: Range[] = [
  { prefix: [0, 0, 0, 0], bits: 8, kind: 'unspecified' }, // "this network" (RFC 791); 0.0.0.0 reaches localhost on Linux
  { prefix: [10, 0, 0, 0], bits: 8, kind: 'private' }, // RFC 1918
  { prefix: [100, 64, 0, 0], bits: 10, kind: 'private' }, // shared address space / CGNAT (RFC 6598)
  { prefix: [127, 0, 0, 0], bits: 8, kind: 'loopback' },
  { prefix: [169, 254, 0, 0], bits: 16, kind: 'link_local' }, // includes cloud metadata 169.254.169.254
  { prefix: [172, 16, 0, 0], bits: 12, kind: 'private' }, // RFC 1918
  { prefix: [192, 0, 0, 0], bits: 24, kind: 'reserved' }, // IETF protocol assignments
  { prefix: [192, 0, 2, 0], bits: 24, kind: 'reserved' }, // TEST-NET-1
  { prefix: [192, 88, 99, 0], bits: 24, kind: 'reserved' }, // 6to4 relay anycast (deprecated)
  { prefix: [192, 168, 0, 0], bits: 16, kind: 'private' }, // RFC 1918
  { prefix: [198, 18, 0, 0], bits: 15, kind: 'reserved' }, // benchmarking
  { prefix: [198, 51, 100, 0], bits: 24, kind: 'reserved' }, // TEST-NET-2
  { prefix: [203, 0, 113, 0], bits: 24, kind: 'reserved' }, // TEST-NET-3
  { prefix: [224, 0, 0, 0], bits: 4, kind: 'multicast' },
  { prefix: [240, 0, 0, 0], bits: 4, kind: 'reserved' }, // future use, and 255.255.255.255 broadcast
]

/** RFC 6890 / IANA IPv6 special-purpose registry (embedded-IPv4 forms are handled before these). */
const IPV6_RANGES: Range[] = [
  { prefix: [0x01, 0x00], bits: 64, kind: 'reserved' }, // discard-only 100::/64
  { prefix: [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], bits: 48, kind: 'private' }, // local-use NAT64 64:ff9b:1::/48
  { prefix: [0x20, 0x01, 0x00, 0x00], bits: 32, kind: 'reserved' }, // Teredo (embeds an obfuscated IPv4)
  { prefix: [0x20, 0x01, 0x0d, 0xb8], bits: 32, kind: 'reserved' }, // documentation
  { prefix: [0x20, 0x01, 0x00, 0x10], bits: 28, kind: 'reserved' }, // ORCHID
  { prefix: [0x20, 0x01, 0x00, 0x20], bits: 28, kind: 'reserved' }, // ORCHIDv2
  { prefix: [0x3f, 0xff], bits: 20, kind: 'reserved' }, // documentation 3fff::/20
  { prefix: [0xfc], bits: 7, kind: 'unique_local' }, // fc00::/7
  { prefix: [0xfe, 0x80], bits: 10, kind: 'link_local' }, // fe80::/10
  { prefix: [0xfe, 0xc0], bits: 10, kind: 'private' }, // deprecated site-local fec0::/10
  { prefix: [0xff], bits: 8, kind: 'multicast' },
]

function matches(bytes: Uint8Array, range: Range): boolean {
  let remaining = range.bits
  for (let index = 0; remaining > 0; index++) {
    const take = Math.min(8, remaining)
    const mask = (0xff << (8 - take)) & 0xff
    if ((bytes[index]! & mask) !== ((range.prefix[index] ?? 0) & mask)) return false
    remaining -= take
  }
  return true
}

function parseIPv4(address: string): Uint8Array {
  return new Uint8Array(address.split('.').map(Number))
}

/** 16 bytes of an IPv6 address (zone id dropped, `::` expanded, a trailing dotted quad accepted). */
export function parseIPv6(address: string): Uint8Array {
  let text = address.replace(/%.*$/, '').toLowerCase()
  const bytes = new Uint8Array(16)
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!)
    text = `${text.slice(0, dotted.index)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : []
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  groups.forEach((group, index) => {
    const value = parseInt(group, 16)
    bytes[index * 2] = value >> 8
    bytes[index * 2 + 1] = value & 0xff
  })
  return bytes
}

function classifyIPv4Bytes(bytes: Uint8Array): AddressKind {
  return IPV4_RANGES.find((range) => matches(bytes, range))?.kind ?? 'public'
}

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64, 6to4), or null. */
function embeddedIPv4(bytes: Uint8Array): Uint8Array | null {
  const isZero = (from: number, to: number) => bytes.subarray(from, to).every((byte) => byte === 0)
  // ::ffff:a.b.c.d (IPv4-mapped, RFC 4291 §2.5.5.2)
  if (isZero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.subarray(12)
  // ::a.b.c.d (IPv4-compatible, deprecated) — but not :: and ::1 themselves
  if (isZero(0, 12) && !isZero(12, 15)) return bytes.subarray(12)
  // 64:ff9b::/96 (well-known NAT64 prefix, RFC 6052)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && isZero(4, 12)) return bytes.subarray(12)
  // 2002:aabb:ccdd::/48 (6to4, RFC 3056)
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.subarray(2, 6)
  return null
}

/** Classifies an IP address literal (IPv4 or IPv6); throws on anything that is not one. */
export function classifyAddress(address: string): AddressKind {
  if (isIPv4(address)) return classifyIPv4Bytes(parseIPv4(address))
  const bare = address.replace(/^\[(.*)\]$/, '$1')
  if (!isIPv6(bare)) throw new Error(`not an IP address: ${address}`)
  const bytes = parseIPv6(bare)
  if (bytes.every((byte) => byte === 0)) return 'unspecified'
  if (bytes.subarray(0, 15).every((byte) => byte === 0) && bytes[15] === 1) return 'loopback'
  const v4 = embeddedIPv4(bytes)
  if (v4) return classifyIPv4Bytes(v4)
  return IPV6_RANGES.find((range) => matches(bytes, range))?.kind ?? 'public'
}

/** True only for globally routable unicast addresses. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === 'public'
}
