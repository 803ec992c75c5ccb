/**
 * Server-only: every URL under `/api/` that outsiders may call, with its methods and its stance on
 * cross-site requests. The request pipeline answers 405 (with `Allow`) for any other method and
 * applies the CSRF stance before a handler runs; a test fails when a file under `src/routes/api/`
 * is not listed here, so no endpoint ships without someone deciding both.
 */

/**
 * - `same-origin-json`: state-changing methods must come from the app's origin with a JSON body
 *   (tRPC: JSON cannot be sent cross-site without a CORS preflight, which is never granted).
 * - `same-origin`: state-changing methods must come from the app's origin.
 * - `read-only`: the route answers safe methods only, so there is nothing to forge.
 * - `exempt`: a cross-site POST by design (the SAML assertion consumer), whose integrity comes from
 *   a signature and a one-time binding instead. Each one says why in `exemptBecause`.
 */
export type CsrfStance = 'same-origin-json' | 'same-origin' | 'read-only' | 'exempt'

export type ApiRoute = {
  /** File-route path syntax: `$name` is one segment, a trailing `$` the rest of the path. */
  path: string
  methods: readonly ('GET' | 'POST')[]
  csrf: CsrfStance
  /** `pipeline`: answered by the server entry before Start's router; `file-route`: a Start server route. */
  servedBy: 'pipeline' | 'file-route'
  exemptBecause?: string
}

export const API_ROUTES: readonly ApiRoute[] = [
  // Dispatched from the server entry (ADR 008): the API hot path skips Start's per-request router.
  { path: '/api/trpc/$', methods: ['GET', 'POST'], csrf: 'same-origin-json', servedBy: 'pipeline' },
  { path: '/api/health', methods: ['GET'], csrf: 'read-only', servedBy: 'file-route' },
  // Top-level GETs from the browser: the OIDC callback's integrity is the flow (state, PKCE, nonce)
  // bound to this browser by a cookie; the start changes no account state.
  { path: '/api/auth/oidc/$connectionId/callback', methods: ['GET'], csrf: 'read-only', servedBy: 'file-route' },
  { path: '/api/auth/sso/start', methods: ['GET'], csrf: 'read-only', servedBy: 'file-route' },
  { path: '/api/auth/saml/$connectionId/metadata', methods: ['GET'], csrf: 'read-only', servedBy: 'file-route' },
  {
    path: '/api/auth/saml/$connectionId/acs',
    methods: ['POST'],
    csrf: 'exempt',
    servedBy: 'file-route',
    exemptBecause:
      'The SAML HTTP-POST binding is a cross-site form post from the IdP by design. Its integrity comes from the signature, an InResponseTo claimed once from a flow of this connection, the replay store, and the browser check at the completion step; it reads no cookie and sets none.',
  },
  { path: '/api/auth/saml/$connectionId/complete', methods: ['GET'], csrf: 'read-only', servedBy: 'file-route' },
]

/** The routes that accept a cross-site state-changing request. Empty until the SAML assertion consumer exists. */
export const CSRF_EXEMPT_ROUTES: readonly ApiRoute[] = API_ROUTES.filter((route) => route.csrf === 'exempt')

function matchesPath(pattern: string, pathname: string): boolean {
  const patternSegments = pattern.split('/')
  const pathSegments = pathname.split('/')
  for (let index = 0; index < patternSegments.length; index++) {
    const expected = patternSegments[index]!
    if (expected === '$') return index < pathSegments.length
    const actual = pathSegments[index]
    if (actual === undefined) return false
    if (expected.startsWith('$')) {
      if (actual === '') return false
    } else if (expected !== actual.toLowerCase()) {
      // Start's router matches static segments case-insensitively (`/API/health` is the health
      // route), so the table does too: a spelling must never move a request out of its stance.
      return false
    }
  }
  return patternSegments.length === pathSegments.length
}

/** The listed route that serves `pathname` (the routed, decoded path: `request-target.ts`), or null. */
export function findApiRoute(pathname: string): ApiRoute | null {
  return API_ROUTES.find((route) => matchesPath(route.path, pathname)) ?? null
}

/** The methods a route answers, as an `Allow` header value (HEAD wherever GET is served). */
export function allowedMethods(route: ApiRoute): string[] {
  return route.methods.includes('GET') ? [...route.methods, 'HEAD'] : [...route.methods]
}
