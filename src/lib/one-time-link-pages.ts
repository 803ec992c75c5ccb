/**
 * Client-safe: what the pages opened from an emailed one-time link (`/reset-password`,
 * `/verify-email`) share. Their URL carries a secret, the link's token, so (ADR 005, "Pages whose
 * URL carries a secret"):
 * - the response is `no-store` (no shared cache or disk cache keeps a page whose URL is a key to an
 *   account) and `Referrer-Policy: no-referrer` (no request the page makes names the URL);
 * - the page asks what the link is with a POST (`auth.describeOneTimeLink` is a mutation), so the
 *   token never travels in a second URL (access logs, proxy logs);
 * - the answer reaches the first HTML as the loader's `{ status }`, and the loader's deps name the
 *   token by a fingerprint, so the token is not written into the dehydrated router state either.
 */
import type { TRPCClient } from '@trpc/client'
import type { AppRouter } from '../server/trpc/root'
import type { RouterOutputs } from './trpc'

/** Response headers of a page whose URL carries a secret (Start's route `headers`). */
export const SECRET_IN_URL_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
}

/** The pages' `validateSearch` (and their loaders' reading of the raw search): a string `token`, or none. */
export function validateOneTimeLinkSearch(search: Record<string, unknown>): { token?: string } {
  return typeof search.token === 'string' ? { token: search.token } : {}
}

export type OneTimeLinkStatus = RouterOutputs['auth']['describeOneTimeLink']['status']

/**
 * A short stand-in for the token in a route's `loaderDeps` (FNV-1a, 32 bits): it tells the router
 * that another link was opened, and is written into the page instead of the token. Not a secret
 * derivation and not used for any decision: 32 bits of a 256-bit random token reveal nothing.
 */
export function fingerprintOneTimeToken(token: unknown): string | null {
  // The router hands `loaderDeps` the search as parsed: `?token=a&token=b` is an array, not a link.
  if (typeof token !== 'string' || !token) return null
  let hash = 0x811c9dc5
  for (let index = 0; index < token.length; index++) {
    hash ^= token.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

/**
 * What the link is, for a page's loader: in-process during SSR, a POST from the browser. Null when
 * there is no token or the lookup failed (rate limit, network): the page then offers its form (a
 * reset) or tries the link (a verification), which gives its own answer.
 */
export async function describeOneTimeLinkForPage(
  client: TRPCClient<AppRouter>,
  token: string | undefined,
  purpose: 'password_reset' | 'email_verification',
): Promise<{ status: OneTimeLinkStatus | null }> {
  if (!token) return { status: null }
  try {
    return await client.auth.describeOneTimeLink.mutate({ token, purpose })
  } catch {
    return { status: null }
  }
}
