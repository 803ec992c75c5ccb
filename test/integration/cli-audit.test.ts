/**
 * `gatehouse audit:verify` as an operator runs it: a separate process on this worker's database,
 * exit 0 on an intact chain, exit 1 and the broken event's id after tampering.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeEach, describe, expect, it } from 'vitest'
import { recordAuditEvent } from '../../src/server/audit/audit-log'
import { getDatabase, getDb } from '../../src/server/db/client'

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

function runAuditVerify(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/server/cli/main.ts', 'audit:verify'],
      { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

beforeEach(async () => {
  await getDatabase().pool.query('DELETE FROM audit_events')
})

describe('gatehouse audit:verify', () => {
  it('exits 0 on an intact chain, then 1 naming the event after a row is tampered with', { timeout: 60_000 }, async () => {
    const ids: number[] = []
    for (const type of ['auth.sign_in.failed', 'auth.sign_in.succeeded', 'session.revoked'] as const) {
      ids.push((await recordAuditEvent(getDb(), { type, ip: '192.0.2.1', details: { method: 'password' } })).id)
    }

    const intact = await runAuditVerify()
    expect(intact).toMatchObject({ code: 0, stdout: 'audit chain intact (3 events)\n' })

    await getDatabase().pool.query(`UPDATE audit_events SET details = '{"method":"sso"}' WHERE id = ?`, [ids[1]])
    const broken = await runAuditVerify()
    expect(broken.code).toBe(1)
    expect(broken.stdout).toMatch(new RegExp(`^audit chain BROKEN at event ${ids[1]}: hash does not match`))
    expect(broken.stderr).toContain('the audit chain does not verify')
  })
})
