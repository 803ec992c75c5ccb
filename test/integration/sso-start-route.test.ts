/**
 * `GET /api/auth/sso/start?connection=…`: starting a login by connection (bookmarks, IdP tiles).
 * The attack: login CSRF — a link on another site starts a login at a connection whose IdP signs
 * people in without asking, and the victim comes back signed into the attacker's account. A
 * cross-site start stops at a confirmation page and creates no flow; a bookmark or our own page
 * goes straight to the IdP (OWASP ASVS 5.0 V3.5; RFC 9700 §4.4.1.8).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handleSsoStartRoute } from '../../src/server/sso/sso-routes'
import { nextTestIp, sql } from '../support/auth-fixtures'
import { startOidcTestbed, type OidcTestbed } from '../support/oidc-fixtures'

let testbed: OidcTestbed

beforeAll(async () => {
  testbed = await startOidcTestbed([], [{}])
})

afterAll(async () => {
  await testbed?.stop()
})

async function start(fetchSite: string | null) {
  const connectionId = testbed.tenants[0]!.connection.id
  const headers = new Headers(fetchSite ? { 'sec-fetch-site': fetchSite } : {})
  const request = new Request(`http://localhost:3000/api/auth/sso/start?connection=${connectionId}&redirect=%2Fapp`, { headers })
  Object.defineProperty(request, 'ip', { value: nextTestIp() })
  return handleSsoStartRoute(request)
}

async function flowCount(): Promise<number> {
  const [row] = await sql('SELECT COUNT(*) AS n FROM sso_login_flows WHERE connection_id = ?', [testbed.tenants[0]!.connection.id])
  return Number(row!.n)
}

describe('starting SSO by connection', () => {
  it('a cross-site link stops at a confirmation page: no flow, no binding cookie, no redirect to the IdP', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const before = await flowCount()
      const response = await start(site)
      expect(response.status).toBe(200)
      expect(response.headers.get('location')).toBeNull()
      expect(response.headers.getSetCookie()).toEqual([])
      const html = await response.text()
      expect(html).toContain('Continue to Local IdP')
      expect(html).toContain('/api/auth/sso/start?connection=')
      expect(await flowCount()).toBe(before)
    }
  })

  it('the other side: a bookmark (none), our own page (same-origin) or a browser without Fetch Metadata goes to the IdP', async () => {
    for (const site of ['none', 'same-origin', null]) {
      const before = await flowCount()
      const response = await start(site)
      expect(response.status).toBe(303)
      expect(response.headers.get('location')).toMatch(new RegExp(`^${testbed.idp.issuer}/`))
      expect(response.headers.getSetCookie().some((cookie) => cookie.startsWith('gatehouse_sso_binding='))).toBe(true)
      expect(await flowCount()).toBe(before + 1)
    }
  })
})
