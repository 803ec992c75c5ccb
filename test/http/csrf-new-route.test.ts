/**
 * CSRF is on by default for every route (ADR 005): a server route added under `src/routes/api/`
 * by someone who never thought about cross-site requests is still protected. The project is copied,
 * a new POST route is added that would write a row if it ran, the copy is built, and the built
 * server is attacked with a cross-site form post (OWASP ASVS 3.5.1; WSTG-SESS-05).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startChangedProjectCopy, type RunningProjectCopy } from '../setup/project-copy'
import { countRows } from './security-support'

/** A route whose handler, if it ever ran, would create an organization (a visible write). */
const PROBE_ROUTE = `import { createFileRoute } from '@tanstack/react-router'
import { createOrganization } from '../../server/users/users'
import { getDb } from '../../server/db/client'

export const Route = createFileRoute('/api/probe')({
  server: {
    handlers: {
      POST: async () => {
        await createOrganization(getDb(), { name: 'Forged', slug: 'forged-' + Date.now() })
        return new Response('probe ran')
      },
    },
  },
})
`

let server: RunningProjectCopy

beforeAll(async () => {
  server = await startChangedProjectCopy({
    runId: inject('runId'),
    name: 'csrfroute',
    change: (copy) => copy.writeFile('src/routes/api/probe.ts', PROBE_ROUTE),
  })
}, 120_000)

afterAll(async () => {
  await server?.stopAndRemove()
})

describe('a route nobody listed', () => {
  it('refuses a cross-site form post before its handler runs: 403, nothing written', async () => {
    const before = await countRows(server.databaseUrl, ['organizations', 'audit_events'])
    const response = await fetch(`${server.url}/api/probe`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    })
    expect(response.status).toBe(403)
    expect(await response.text()).not.toContain('probe ran')
    expect(await countRows(server.databaseUrl, ['organizations', 'audit_events'])).toEqual(before)
  })

  it('refuses a POST with no Origin and no Sec-Fetch-Site evidence', async () => {
    const response = await fetch(`${server.url}/api/probe`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
    expect(response.status).toBe(403)
  })

  it('the other side: the same POST from the app’s own origin runs', async () => {
    const response = await fetch(`${server.url}/api/probe`, { method: 'POST', headers: { origin: server.url, 'sec-fetch-site': 'same-origin' } })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('probe ran')
  })
})
