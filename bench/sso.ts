/**
 * The bench's SSO section: OIDC logins against the real local provider (`scripts/idp`), the way a
 * browser does them — `auth.beginSignIn` (keeps the binding cookie), the IdP's login form
 * (`signInAtLocalIdp`, outside the measurement), then the app's callback, timed from the request
 * to its 303. The callback's latency over loopback is its server time plus a keep-alive round
 * trip; it includes the code exchange at the IdP (token endpoint, same machine), which is part of
 * what the callback does. The provider counts discovery and JWKS requests: the app should fetch
 * each once per instance and never again per login.
 */
import { randomBytes } from 'node:crypto'
import { startLocalOidcProvider, type LocalOidcCounters, type LocalOidcProvider } from '../scripts/idp/oidc-provider'
import { signInAtLocalIdp } from '../scripts/idp/sign-in-at-local-idp'
import { createOrganization } from '../src/server/users/users'
import type { DatabaseHandle } from '../src/server/db/client'
import { getFreePort } from '../test/setup/app-server'
import { seedOidcTenant } from '../test/support/oidc-tenant'
import { percentile } from './load'

const CLIENT_ID = 'gatehouse-bench'
const DOMAIN = 'sso.bench.example'
/** IdP users the logins rotate through (the first login of each provisions the account). */
const IDP_USERS = 20

export type SsoBenchSetup = { idpPort: number; issuer: string; connectionId: string; clientSecret: string }

export type SsoSummary = {
  logins: number
  /** Callback statuses, e.g. `{ '303 /app': 200 }`. */
  callbackStatuses: Record<string, number>
  callbackP50Ms: number
  callbackP99Ms: number
  /** The first login's callback (cold: JWKS fetched, connection cache filled). */
  firstCallbackMs: number
  /** Logins after each user's first (no provisioning): the everyday callback. */
  returningCallbackP50Ms: number
  returningCallbackP99Ms: number
  /** What the IdP served during the logins. */
  idpRequests: LocalOidcCounters
  discoveryPerInstance: number
  jwksPerInstance: number
  durationSeconds: number
}

/**
 * Seeds an organization with a verified domain routed to an enabled connection at a provider that
 * will listen on `idpPort` (the issuer, saved in the connection, contains the port).
 */
export async function seedSsoBench(handle: DatabaseHandle): Promise<SsoBenchSetup> {
  const idpPort = await getFreePort()
  const issuer = `http://127.0.0.1:${idpPort}`
  const clientSecret = randomBytes(24).toString('base64url')
  const organization = await createOrganization(handle.db, { name: 'Bench SSO', slug: 'bench-sso' })
  const connection = await seedOidcTenant(handle.db, { organizationId: organization.id, issuer, clientId: CLIENT_ID, clientSecret, domain: DOMAIN })
  return { idpPort, issuer, connectionId: connection.id, clientSecret }
}

const users = Array.from({ length: IDP_USERS }, (_, index) => ({ email: `user${index}@${DOMAIN}`, password: `idp-password-${index}`, name: `SSO User ${index}`, sub: `bench-${index}` }))

/** Starts the provider with the app's redirect URI registered. */
export function startSsoBenchIdp(appUrl: string, setup: SsoBenchSetup): Promise<LocalOidcProvider> {
  return startLocalOidcProvider({
    port: setup.idpPort,
    clients: [{ clientId: CLIENT_ID, clientSecret: setup.clientSecret, redirectUris: [`${appUrl}/api/auth/oidc/${setup.connectionId}/callback`] }],
    users,
  })
}

/** Name=value pairs of the response's cookies (the SSO binding cookie). */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ')
}

/** `logins` sequential logins; each from its own client address (X-Forwarded-For), as from separate browsers. */
export async function measureSsoLogins(appUrl: string, idp: LocalOidcProvider, logins: number): Promise<SsoSummary> {
  const started = performance.now()
  const callbackLatencies: number[] = []
  const callbackStatuses: Record<string, number> = {}
  for (let index = 0; index < logins; index++) {
    const user = users[index % users.length]!
    const browserHeaders = { 'x-forwarded-for': `10.64.${Math.floor(index / 250)}.${(index % 250) + 1}`, 'user-agent': 'gatehouse-bench-sso' }
    const begin = await fetch(`${appUrl}/api/trpc/auth.beginSignIn`, {
      method: 'POST',
      headers: { ...browserHeaders, origin: appUrl, 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, redirect: '/app' }),
    })
    const answer = (await begin.json()) as { result?: { data?: { next?: string; url?: string } } }
    const authorizationUrl = answer.result?.data?.url
    if (begin.status !== 200 || answer.result?.data?.next !== 'sso' || !authorizationUrl) {
      throw new Error(`auth.beginSignIn answered ${begin.status}: ${JSON.stringify(answer).slice(0, 300)}`)
    }
    const callbackUrl = await signInAtLocalIdp(authorizationUrl, user)

    const callbackStarted = performance.now()
    const callback = await fetch(callbackUrl, { redirect: 'manual', headers: { ...browserHeaders, cookie: cookiesOf(begin) } })
    await callback.arrayBuffer()
    callbackLatencies.push(performance.now() - callbackStarted)
    const status = `${callback.status} ${callback.headers.get('location') ?? ''}`.trim()
    callbackStatuses[status] = (callbackStatuses[status] ?? 0) + 1
  }
  const round2 = (value: number) => Math.round(value * 100) / 100
  return {
    logins,
    callbackStatuses,
    callbackP50Ms: round2(percentile(callbackLatencies, 50)),
    callbackP99Ms: round2(percentile(callbackLatencies, 99)),
    firstCallbackMs: round2(callbackLatencies[0] ?? Number.NaN),
    returningCallbackP50Ms: round2(percentile(callbackLatencies.slice(users.length), 50)),
    returningCallbackP99Ms: round2(percentile(callbackLatencies.slice(users.length), 99)),
    idpRequests: { ...idp.counters },
    discoveryPerInstance: idp.counters.discovery,
    jwksPerInstance: idp.counters.jwks,
    durationSeconds: round2((performance.now() - started) / 1000),
  }
}
