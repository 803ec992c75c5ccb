/**
 * The audit log against the real database: the hash chain verifies, every kind of tampering is
 * found, appends from two app instances at once never fork the chain, and secrets never get in.
 */
import { createHash, randomBytes } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import type { RowDataPacket } from 'mysql2/promise'
import { auditEvents as auditEventsTable } from '../../db/schema'
import { createDatabase, getDatabase, getDb, type Database } from '../../src/server/db/client'
import { computeAuditEventHash, GENESIS_HASH, serializeAuditEventForHash } from '../../src/server/audit/audit-hash'
import { getSecretBoxKeyRing } from '../../src/server/crypto/secret-box'
import { createOrganization } from '../../src/server/users/users'
import {
  AUDIT_CHAIN_KEY_PURPOSE,
  AuditDetailsError,
  listAuditEvents,
  recordAuditEvent,
  runAuditedTransaction,
  verifyAuditChain,
  type AuditEventInput,
} from '../../src/server/audit/audit-log'

async function sql<T extends RowDataPacket[] = RowDataPacket[]>(statement: string, params: unknown[] = []): Promise<T> {
  const [rows] = await getDatabase().pool.query<T>(statement, params)
  return rows
}

/** The app's chain key: what an insider who also holds APP_SECRET could use. */
function chainKey(): Uint8Array {
  return getSecretBoxKeyRing(AUDIT_CHAIN_KEY_PURPOSE).current.key
}

async function auditRows() {
  return sql('SELECT id, previous_hash AS previousHash, hash, details FROM audit_events ORDER BY id')
}

async function recordSampleChain(count: number): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < count; i++) {
    const { id } = await recordAuditEvent(getDb(), {
      type: i % 2 ? 'auth.sign_in.failed' : 'auth.sign_in.succeeded',
      organizationId: 'org00000000000000000000000',
      actorUserId: `usr0000000000000000000000${i}`,
      ip: '203.0.113.9',
      userAgent: 'vitest',
      details: { method: 'password', attempt: i },
    })
    ids.push(id)
  }
  return ids
}

beforeEach(async () => {
  await sql('DELETE FROM audit_events')
})

describe('audit chain', () => {
  it('a chain of events links each row to the one before and verifies', async () => {
    await recordAuditEvent(getDb(), { type: 'auth.sign_up', actorUserId: 'usr00000000000000000000001', details: { method: 'password' } })
    await recordAuditEvent(getDb(), {
      type: 'auth.sign_in.succeeded',
      organizationId: 'org00000000000000000000001',
      actorUserId: 'usr00000000000000000000001',
      subjectUserId: 'usr00000000000000000000001',
      ip: '2001:db8::1',
      // Non-ASCII and astral characters must read back byte-identical, or the hash would not match.
      userAgent: 'Mözilla/5.0 😀',
      details: { nested: { z: 1, a: ['x', null, true] }, note: 'ünïcode 😀', at: new Date('2026-01-01T00:00:00.001Z') },
    })
    await recordAuditEvent(getDb(), { type: 'auth.sign_out' })

    const rows = await auditRows()
    expect(rows).toHaveLength(3)
    expect(rows[0]!.previousHash).toBe(GENESIS_HASH)
    expect(rows[1]!.previousHash).toBe(rows[0]!.hash)
    expect(rows[2]!.previousHash).toBe(rows[1]!.hash)
    expect(await verifyAuditChain(getDb())).toEqual({ ok: true, count: 3, headHash: rows[2]!.hash })
  })

  it('an empty log verifies with zero events', async () => {
    expect(await verifyAuditChain(getDb())).toEqual({ ok: true, count: 0, headHash: GENESIS_HASH })
  })

  it('verifies page by page, and finds a break across a page boundary', async () => {
    const ids = await recordSampleChain(7)
    expect(await verifyAuditChain(getDb(), { pageSize: 2 })).toMatchObject({ ok: true, count: 7 })
    await sql('DELETE FROM audit_events WHERE id = ?', [ids[3]])
    expect(await verifyAuditChain(getDb(), { pageSize: 3 })).toMatchObject({ ok: false, brokenAtId: ids[4] })
  })

  it('a user agent longer than the column is cut (by code point) and still verifies', async () => {
    await recordAuditEvent(getDb(), { type: 'auth.sign_in.failed', userAgent: `${'a'.repeat(511)}😀😀` })
    const [row] = await sql('SELECT user_agent AS userAgent FROM audit_events')
    expect(Array.from(row!.userAgent as string)).toHaveLength(512)
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true, count: 1 })
  })
})

describe('tampering is detected', () => {
  it('editing one event’s details (raw UPDATE) is detected at that event', async () => {
    const ids = await recordSampleChain(5)
    await sql(`UPDATE audit_events SET details = '{"method":"password","attempt":99}' WHERE id = ?`, [ids[2]])
    expect(await verifyAuditChain(getDb())).toEqual({ ok: false, brokenAtId: ids[2], reason: expect.stringMatching(/altered/) })
  })

  it('editing an event and recomputing its hash is detected at the next event', async () => {
    const ids = await recordSampleChain(5)
    // The attacker rewrites event 2 consistently with its own hash; event 3 still commits to the old one.
    await sql(`UPDATE audit_events SET type = 'auth.sign_in.succeeded' WHERE id = ?`, [ids[1]])
    const forged = await getDb().query.auditEvents.findFirst({ where: (table, { eq }) => eq(table.id, ids[1]!) })
    await sql('UPDATE audit_events SET hash = ? WHERE id = ?', [computeAuditEventHash(forged!, chainKey()), ids[1]])
    expect(await verifyAuditChain(getDb())).toEqual({
      ok: false,
      brokenAtId: ids[2],
      reason: `previous_hash does not match the hash of event ${ids[1]} (an event was deleted, inserted or reordered)`,
    })
  })

  it('an attacker with database access but not APP_SECRET cannot re-hash an edited event (keyed chain)', async () => {
    const ids = await recordSampleChain(3)
    await sql(`UPDATE audit_events SET type = 'auth.sign_in.succeeded' WHERE id = ?`, [ids[2]])
    const forged = await getDb().query.auditEvents.findFirst({ where: (table, { eq }) => eq(table.id, ids[2]!) })
    // Their best guess: a plain SHA-256, or an HMAC under some other key.
    const plainHash = createHash('sha256').update(serializeAuditEventForHash(forged!)).digest('hex')
    await sql('UPDATE audit_events SET hash = ? WHERE id = ?', [plainHash, ids[2]])
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: false, brokenAtId: ids[2] })
    await sql('UPDATE audit_events SET hash = ? WHERE id = ?', [computeAuditEventHash(forged!, new Uint8Array(randomBytes(32))), ids[2]])
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: false, brokenAtId: ids[2] })
  })

  it('deleting a middle event is detected at the event after it', async () => {
    const ids = await recordSampleChain(5)
    await sql('DELETE FROM audit_events WHERE id = ?', [ids[2]])
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: false, brokenAtId: ids[3] })
  })

  it('deleting the first event is detected (the chain no longer starts at genesis)', async () => {
    const ids = await recordSampleChain(3)
    await sql('DELETE FROM audit_events WHERE id = ?', [ids[0]])
    expect(await verifyAuditChain(getDb())).toEqual({ ok: false, brokenAtId: ids[1], reason: expect.stringMatching(/genesis/) })
  })

  it('altering an event’s previous_hash is detected at that event', async () => {
    const ids = await recordSampleChain(4)
    await sql('UPDATE audit_events SET previous_hash = ? WHERE id = ?', ['a'.repeat(64), ids[2]])
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: false, brokenAtId: ids[2] })
  })

  it('swapping the ids of two events (reordering) is detected', async () => {
    const ids = await recordSampleChain(4)
    await sql('UPDATE audit_events SET id = 1000000 WHERE id = ?', [ids[1]])
    await sql('UPDATE audit_events SET id = ? WHERE id = ?', [ids[1], ids[2]])
    await sql('UPDATE audit_events SET id = ? WHERE id = 1000000', [ids[2]])
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: false, brokenAtId: ids[1] })
  })
})

describe('concurrent appends', () => {
  it('40 parallel appends from two app instances (two pools) on an empty log yield one valid chain', async () => {
    const url = process.env.DATABASE_URL!
    const instances = [createDatabase(url), createDatabase(url)]
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          recordAuditEvent(instances[i % 2]!.db, { type: 'rate_limit.blocked', ip: `198.51.100.${i}`, details: { instance: i % 2, n: i } }),
        ),
      )

      expect(new Set(results.map((r) => r.id)).size).toBe(40)
      const rows = await auditRows()
      expect(rows).toHaveLength(40)
      // No fork: every event links to a different predecessor, the first to genesis.
      expect(new Set(rows.map((r) => r.previousHash)).size).toBe(40)
      expect(rows[0]!.previousHash).toBe(GENESIS_HASH)
      expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true, count: 40 })
    } finally {
      await Promise.all(instances.map((instance) => instance.pool.end()))
    }
  })
})

describe('the chain lock', () => {
  // Pinned on purpose: instances running different versions must contend for the same lock.
  const LOCK_NAME_SQL = "CONCAT('gatehouse_audit_', SHA1(DATABASE()))"

  it('an append waits while another instance holds the chain lock, then proceeds', async () => {
    const holder = await getDatabase().pool.getConnection()
    try {
      await holder.query(`SELECT GET_LOCK(${LOCK_NAME_SQL}, 1)`)
      let isDone = false
      const append = recordAuditEvent(getDb(), { type: 'auth.sign_out' }).then(() => (isDone = true))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(isDone).toBe(false)
      expect(await auditRows()).toHaveLength(0)
      await holder.query(`SELECT RELEASE_LOCK(${LOCK_NAME_SQL})`)
      await append
      expect(await auditRows()).toHaveLength(1)
    } finally {
      await holder.query(`SELECT RELEASE_LOCK(${LOCK_NAME_SQL})`)
      holder.release()
    }
  })

  it('a holder whose connection dies frees the lock (no stuck chain after a crash)', async () => {
    const holder = await getDatabase().pool.getConnection()
    await holder.query(`SELECT GET_LOCK(${LOCK_NAME_SQL}, 1)`)
    const append = recordAuditEvent(getDb(), { type: 'auth.sign_out' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    holder.destroy()
    await append
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true, count: 1 })
  })
})

describe('a change and its event in one transaction (runAuditedTransaction)', () => {
  // A change whose event is appended after its commit loses the event when the process dies in
  // between; one appended before it leaves an event for a change that rolled back.
  const slugOf = (label: string) => `audited-${label}-${randomBytes(4).toString('hex')}`
  const organizationsWithSlug = (slug: string) => sql('SELECT id FROM organizations WHERE slug = ?', [slug])
  const policyEvent = (organizationId: string, details: Record<string, unknown>): AuditEventInput => ({ type: 'organization.mfa_policy_changed', organizationId, details })

  it('commits the change and its event together, chained after the head', async () => {
    await recordSampleChain(2)
    const slug = slugOf('commit')

    const organization = await runAuditedTransaction(getDb(), async (tx) => {
      const created = await createOrganization(tx, { name: 'Audited', slug })
      return { result: created, event: policyEvent(created.id, { to: 'required' }) }
    })

    expect(await organizationsWithSlug(slug)).toEqual([{ id: organization.id }])
    const rows = await auditRows()
    expect(rows).toHaveLength(3)
    expect(rows[2]!.previousHash).toBe(rows[1]!.hash)
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true, count: 3 })
  })

  it('a change that throws leaves neither its rows nor an event, and the chain goes on from the old head', async () => {
    await recordSampleChain(2)
    const slug = slugOf('rollback')

    await expect(
      runAuditedTransaction(getDb(), async (tx) => {
        await createOrganization(tx, { name: 'Rolled back', slug })
        throw new Error('lost a race')
      }),
    ).rejects.toThrow('lost a race')

    expect(await organizationsWithSlug(slug)).toEqual([])
    expect(await auditRows()).toHaveLength(2)
    await recordAuditEvent(getDb(), { type: 'auth.sign_out' })
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true, count: 3 })
  })

  it('an event refused for a secret-looking key rolls the change back too', async () => {
    const slug = slugOf('secret')

    await expect(
      runAuditedTransaction(getDb(), async (tx) => {
        const created = await createOrganization(tx, { name: 'Leaky', slug })
        return { result: created, event: policyEvent(created.id, { apiToken: 'not-for-the-log' }) }
      }),
    ).rejects.toThrow(AuditDetailsError)

    expect(await organizationsWithSlug(slug)).toEqual([])
    expect(await auditRows()).toHaveLength(0)
  })

  it('audited transactions interleaved with plain appends from two instances never fork the chain', async () => {
    // Each transaction reads before it waits, as a link does: under REPEATABLE READ that first
    // read would fix a snapshot older than the head it later appends after.
    const url = process.env.DATABASE_URL!
    const instances = [createDatabase(url), createDatabase(url)]
    try {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => {
          const db = instances[i % 2]!.db
          if (i % 3 !== 0) return recordAuditEvent(db, { type: 'rate_limit.blocked', details: { n: i } })
          return runAuditedTransaction(db, async (tx) => {
            await tx.select({ id: auditEventsTable.id }).from(auditEventsTable).limit(1)
            await new Promise((resolve) => setTimeout(resolve, 5 + (i % 7) * 3))
            return { result: null, event: { type: 'rate_limit.blocked', details: { n: i, isAudited: true } } }
          })
        }),
      )

      const rows = await auditRows()
      expect(rows).toHaveLength(30)
      expect(new Set(rows.map((r) => r.previousHash)).size).toBe(30)
      expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true, count: 30 })
    } finally {
      await Promise.all(instances.map((instance) => instance.pool.end()))
    }
  })
})

describe('what may be written', () => {
  it('a secret-looking detail key is refused and nothing is written', async () => {
    await expect(
      recordAuditEvent(getDb(), { type: 'password.changed', actorUserId: 'usr00000000000000000000001', details: { newPassword: 'hunter2hunter2' } }),
    ).rejects.toThrow(AuditDetailsError)
    await expect(
      recordAuditEvent(getDb(), { type: 'mfa.recovery_code.used', details: { remaining: 9, used: { recoveryCode: 'abcd-efgh' } } }),
    ).rejects.toThrow(/used\.recoveryCode/)
    expect(await auditRows()).toHaveLength(0)
  })

  it('an event type outside the catalog is refused and nothing is written', async () => {
    await expect(recordAuditEvent(getDb(), { type: 'auth.made_up' } as unknown as AuditEventInput)).rejects.toThrow(/unknown audit event type/)
    expect(await auditRows()).toHaveLength(0)
  })

  it('recording inside a transaction is refused (its insert would commit after the chain lock is released)', async () => {
    await expect(
      getDb().transaction((tx) => recordAuditEvent(tx as unknown as Database, { type: 'auth.sign_out' })),
    ).rejects.toThrow(/pool-backed database/)
    expect(await auditRows()).toHaveLength(0)
  })
})

describe('listAuditEvents (admin console)', () => {
  it('returns only the organization’s events, newest first, with a cursor', async () => {
    const orgA = 'orgaaaaaaaaaaaaaaaaaaaaaaa'
    const orgB = 'orgbbbbbbbbbbbbbbbbbbbbbbb'
    const idsA: number[] = []
    for (let i = 0; i < 5; i++) {
      idsA.push((await recordAuditEvent(getDb(), { type: 'auth.sign_in.succeeded', organizationId: orgA, details: { n: i } })).id)
      await recordAuditEvent(getDb(), { type: 'auth.sign_in.failed', organizationId: orgB })
    }
    await recordAuditEvent(getDb(), { type: 'auth.sign_in.failed' })

    const first = await listAuditEvents(getDb(), { organizationId: orgA, limit: 2 })
    expect(first.events.map((e) => e.id)).toEqual([idsA[4], idsA[3]])
    expect(first.events[0]).toMatchObject({ type: 'auth.sign_in.succeeded', details: { n: 4 } })
    expect(first.events[0]!.createdAt).toBeInstanceOf(Date)
    expect(first.nextBeforeId).toBe(idsA[3])

    const second = await listAuditEvents(getDb(), { organizationId: orgA, limit: 2, beforeId: first.nextBeforeId })
    expect(second.events.map((e) => e.id)).toEqual([idsA[2], idsA[1]])
    const third = await listAuditEvents(getDb(), { organizationId: orgA, limit: 2, beforeId: second.nextBeforeId })
    expect(third.events.map((e) => e.id)).toEqual([idsA[0]])
    expect(third.nextBeforeId).toBeNull()

    const all = await listAuditEvents(getDb(), { organizationId: orgB, limit: 1000 })
    expect(all.events).toHaveLength(5)
    expect(all.events.every((e) => e.type === 'auth.sign_in.failed')).toBe(true)
  })
})
