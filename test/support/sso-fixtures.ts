/** Fixtures for SSO tests: the CLI as a separate process, audit reads, connections and claims inserted directly. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { AuditActor } from '../../src/server/sso/audit-actor'
import { createOidcConnection, type OidcConnectionInput } from '../../src/server/sso/connections'
import { now } from '../../src/server/clock'
import { getDb } from '../../src/server/db/client'
import { sql } from './auth-fixtures'

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export type CliResult = { code: number; stdout: string; stderr: string }

/** Runs `gatehouse <args>` on this worker's database, with extra environment and optional stdin. */
export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'npx',
      ['tsx', 'src/server/cli/main.ts', ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...options.env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
    child.stdin?.end(options.stdin ?? '')
  })
}

/** Audit events of one type, oldest first, with parsed details. */
export async function auditEventsOfType(type: string): Promise<Array<{ organizationId: string | null; actorUserId: string | null; subjectUserId: string | null; details: Record<string, unknown> }>> {
  const rows = await sql('SELECT organization_id, actor_user_id, subject_user_id, details FROM audit_events WHERE type = ? ORDER BY id', [type])
  return rows.map((row) => ({
    organizationId: row.organization_id,
    actorUserId: row.actor_user_id,
    subjectUserId: row.subject_user_id,
    details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details,
  }))
}

export const OPERATOR_ACTOR: AuditActor = { byOperator: true }

/** A loopback issuer allowed by the test policy (checked when saved, never contacted here). */
export const TEST_ISSUER = 'http://127.0.0.1:9/oidc'

/** Creates an OIDC connection directly through the store, with a loopback-permissive policy. */
export async function createTestOidcConnection(organizationId: string, overrides: Partial<OidcConnectionInput> = {}) {
  return createOidcConnection(
    { db: getDb(), now: now(), actor: OPERATOR_ACTOR, outboundPolicy: { allowedPrivateHosts: ['127.0.0.1', 'localhost'] } },
    { organizationId, displayName: 'Test IdP', issuer: TEST_ISSUER, clientId: 'gatehouse-test', clientSecret: 'test-client-secret-value', ...overrides },
  )
}
