/**
 * The bench's SAML section: SP-initiated logins against the local SAML IdP (`scripts/idp`), as a
 * browser makes them — `auth.beginSignIn` (keeps the binding cookie), the IdP's login form and its
 * signed response (outside the measurement), then the app's ACS, timed from the POST to its 303:
 * pre-parse checks, signature validation of Response and Assertion, the addressing checks, the
 * replay store and the hand-off to the completion step. The completion GET follows, untimed. The
 * demo users carry many groups so a response is of realistic size (~10 KB with attributes).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signInAtLocalSamlIdp, startLocalSamlIdp, type LocalSamlIdp } from '../scripts/idp/saml-idp'
import { loadOrCreateSamlSigningKeys } from '../scripts/idp/saml-response-xml'
import { ssoConnections } from '../db/schema'
import type { DatabaseHandle } from '../src/server/db/client'
import { generateId } from '../src/server/ids'
import { addOrganizationDomain, setDomainConnection, verifyOrganizationDomainByOperator } from '../src/server/sso/domains'
import { createOrganization } from '../src/server/users/users'
import { percentile } from './load'

const DOMAIN = 'saml.bench.example'
const IDP_USERS = 20
/** Groups per user: enough attribute text for a ~10 KB signed response. */
const GROUPS_PER_USER = 18

const users = Array.from({ length: IDP_USERS }, (_, index) => ({
  email: `saml${index}@${DOMAIN}`,
  password: `saml-idp-password-${index}`,
  displayName: `SAML User ${index}`,
  groups: Array.from({ length: GROUPS_PER_USER }, (_, group) => `cn=bench-group-${group},ou=groups,dc=saml,dc=bench,dc=example`),
}))

export type SamlSummary = {
  logins: number
  acsStatuses: Record<string, number>
  /** Size of the decoded SAMLResponse XML, in bytes (the first login's). */
  responseBytes: number
  acsP50Ms: number
  acsP99Ms: number
  completionStatuses: Record<string, number>
  durationSeconds: number
}

/** Starts the IdP, then seeds an organization whose verified domain routes to an enabled SAML connection trusting it. */
export async function startSamlBench(handle: DatabaseHandle): Promise<{ idp: LocalSamlIdp; connectionId: string }> {
  const idp = await startLocalSamlIdp({ port: 0, keys: loadOrCreateSamlSigningKeys(mkdtempSync(join(tmpdir(), 'gatehouse-bench-saml-'))), users })
  const organization = await createOrganization(handle.db, { name: 'Bench SAML', slug: 'bench-saml' })
  const now = new Date()
  const connectionId = generateId()
  await handle.db.insert(ssoConnections).values({
    id: connectionId,
    organizationId: organization.id,
    protocol: 'saml',
    displayName: 'Bench SAML IdP',
    status: 'enabled',
    samlIdpEntityId: idp.entityId,
    samlIdpSsoUrl: idp.ssoUrl,
    samlIdpCertificates: [idp.certificatePem],
    samlNameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    samlWantAssertionsSigned: true,
    samlWantAuthnResponseSigned: true,
    samlIsIdpInitiatedAllowed: false,
    groupRoleMap: {},
    defaultRole: 'member',
    mfaAmrValues: [],
    mfaAcrValues: [],
    createdAt: now,
    updatedAt: now,
  })
  const deps = { db: handle.db, now, actor: { byOperator: true } }
  await addOrganizationDomain(deps, { organizationId: organization.id, domain: DOMAIN })
  await verifyOrganizationDomainByOperator(deps, { organizationId: organization.id, domain: DOMAIN })
  await setDomainConnection(deps, { organizationId: organization.id, domain: DOMAIN, connectionId })
  return { idp, connectionId }
}

function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ')
}

/** `logins` sequential SAML logins, each from its own client address, as from separate browsers. */
export async function measureSamlLogins(appUrl: string, logins: number): Promise<SamlSummary> {
  const started = performance.now()
  const latencies: number[] = []
  const acsStatuses: Record<string, number> = {}
  const completionStatuses: Record<string, number> = {}
  let responseBytes = 0
  for (let index = 0; index < logins; index++) {
    const user = users[index % users.length]!
    const browserHeaders = { 'x-forwarded-for': `10.65.${Math.floor(index / 250)}.${(index % 250) + 1}`, 'user-agent': 'gatehouse-bench-saml' }
    const begin = await fetch(`${appUrl}/api/trpc/auth.beginSignIn`, {
      method: 'POST',
      headers: { ...browserHeaders, origin: appUrl, 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, redirect: '/app' }),
    })
    const answer = (await begin.json()) as { result?: { data?: { next?: string; url?: string } } }
    if (begin.status !== 200 || answer.result?.data?.next !== 'sso' || !answer.result.data.url) {
      throw new Error(`auth.beginSignIn answered ${begin.status}: ${JSON.stringify(answer).slice(0, 300)}`)
    }
    const posted = await signInAtLocalSamlIdp(answer.result.data.url, user)
    if (index === 0) responseBytes = Buffer.from(posted.SAMLResponse, 'base64').byteLength
    const body = new URLSearchParams({ SAMLResponse: posted.SAMLResponse }).toString()

    // The IdP's POST is cross-site: no cookie travels with it.
    const acsStarted = performance.now()
    const acs = await fetch(posted.acsUrl, { method: 'POST', redirect: 'manual', headers: { ...browserHeaders, 'content-type': 'application/x-www-form-urlencoded' }, body })
    await acs.arrayBuffer()
    latencies.push(performance.now() - acsStarted)
    const location = acs.headers.get('location')
    const acsStatus = `${acs.status}${location ? ' → complete' : ''}`
    acsStatuses[acsStatus] = (acsStatuses[acsStatus] ?? 0) + 1
    if (!location) continue
    const completion = await fetch(new URL(location, appUrl), { redirect: 'manual', headers: { ...browserHeaders, cookie: cookiesOf(begin) } })
    await completion.arrayBuffer()
    const completionStatus = `${completion.status} ${completion.headers.get('location') ?? ''}`.trim()
    completionStatuses[completionStatus] = (completionStatuses[completionStatus] ?? 0) + 1
  }
  const round2 = (value: number) => Math.round(value * 100) / 100
  return {
    logins,
    acsStatuses,
    responseBytes,
    acsP50Ms: round2(percentile(latencies, 50)),
    acsP99Ms: round2(percentile(latencies, 99)),
    completionStatuses,
    durationSeconds: round2((performance.now() - started) / 1000),
  }
}
