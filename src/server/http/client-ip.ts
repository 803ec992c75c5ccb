/**
 * Server-only: the client's IP address, for rate limits, audit and the sessions list.
 *
 * `X-Forwarded-For` is attacker-controlled except for the entries our own proxies appended, so
 * only the configured number of trusted hops is peeled off from the right (OWASP ASVS 14.x; the
 * left-most entry, which many libraries return, is whatever the client chose to send).
 */

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
