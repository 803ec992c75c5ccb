/**
 * Every URL outsiders call is listed in `src/server/http/api-routes.ts` with its methods and its
 * CSRF stance, and the request pipeline enforces that table. This test reads every file under
 * `src/routes/api/` and fails on a handler the table does not list (or lists differently), so an
 * endpoint cannot ship without someone deciding its methods and whether it accepts cross-site
 * requests. OWASP ASVS 3.5.x (cross-site request forgery); both sides of the exemption are checked.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { API_ROUTES, CSRF_EXEMPT_ROUTES, findApiRoute } from '../../src/server/http/api-routes'
import { decideRequestCsrf } from '../../src/server/http/csrf'

const ROOT = resolve(import.meta.dirname, '../..')
const API_ROUTES_DIR = join(ROOT, 'src/routes/api')
const APP_ORIGIN = 'https://gatehouse.example'

function listRouteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) return listRouteFiles(full)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [full] : []
  })
}

/** The route path and handler methods a server-route file declares. */
function readServerRoute(file: string): { path: string; methods: string[] } {
  const source = readFileSync(file, 'utf8')
  const path = /createFileRoute\(\s*['"]([^'"]+)['"]\s*\)/.exec(source)?.[1]
  const handlers = /handlers\s*:\s*\{([\s\S]*?)\n\s*\},?\n/.exec(source)?.[1] ?? ''
  const methods = [...handlers.matchAll(/^\s*(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s*[:(]/gm)].map((match) => match[1]!)
  if (!path) throw new Error(`${relative(ROOT, file)}: no createFileRoute('…') found`)
  return { path, methods }
}

function crossSitePost(): { method: string; headers: Headers } {
  return { method: 'POST', headers: new Headers({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }) }
}

describe('the API route table', () => {
  const files = listRouteFiles(API_ROUTES_DIR)
  const fileRoutes = files.map(readServerRoute)

  it('lists every handler under src/routes/api/ with exactly its methods', () => {
    expect(fileRoutes.length).toBeGreaterThan(0)
    for (const route of fileRoutes) {
      const listed = API_ROUTES.find((candidate) => candidate.path === route.path)
      expect(listed, `${route.path} is served by a file but missing from src/server/http/api-routes.ts`).toBeDefined()
      expect(listed!.servedBy).toBe('file-route')
      expect([...route.methods].sort()).toEqual([...listed!.methods].sort())
    }
  })

  it('has no file-route entry without a file (a stale row would hide a removed endpoint)', () => {
    const served = new Set(fileRoutes.map((route) => route.path))
    for (const route of API_ROUTES.filter((candidate) => candidate.servedBy === 'file-route')) expect(served.has(route.path), route.path).toBe(true)
  })

  it('gives every route a coherent stance: read-only routes serve GET only, exemptions say why', () => {
    for (const route of API_ROUTES) {
      if (route.csrf === 'read-only') expect(route.methods, route.path).toEqual(['GET'])
      // A reason is a sentence (20 characters or more, four words or more), not a placeholder.
      if (route.csrf === 'exempt') expect(route.exemptBecause, route.path).toMatch(/^(?=.{20,})\w+(?:\W+\w+){3,}/)
    }
  })

  it('refuses a cross-site POST to every route that is not on the exemption list, and only those are exempt', () => {
    for (const route of API_ROUTES) {
      const samplePath = route.path.replace(/\$[A-Za-z]+/g, 'abcdefghijklmnopqrstuvwxyz').replace(/\/\$$/, '/some.call')
      expect(findApiRoute(samplePath)).toBe(route)
      const decision = decideRequestCsrf(crossSitePost(), { isServerFnCall: false, apiRoute: route }, APP_ORIGIN)
      expect(decision.isAllowed, route.path).toBe(CSRF_EXEMPT_ROUTES.includes(route))
    }
  })

  it('refuses a cross-site POST to a path no table lists (a route added tomorrow is protected by default)', () => {
    const decision = decideRequestCsrf(crossSitePost(), { isServerFnCall: false, apiRoute: findApiRoute('/api/not-yet-written') }, APP_ORIGIN)
    expect(decision).toEqual({ isAllowed: false, reason: 'cross-site-fetch' })
  })

  it('records the exemption list: the SAML assertion consumer is the only POST that accepts a cross-site body without an origin check', () => {
    expect(CSRF_EXEMPT_ROUTES.map((route) => route.path)).toEqual(['/api/auth/saml/$connectionId/acs'])
    expect(API_ROUTES.filter((route) => route.methods.includes('POST') && route.csrf !== 'same-origin-json' && route.csrf !== 'same-origin').map((route) => route.path)).toEqual([
      '/api/auth/saml/$connectionId/acs',
    ])
  })
})
