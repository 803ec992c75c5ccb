import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canonicalJson, computeAuditEventHash, GENESIS_HASH, serializeAuditEventForHash, type AuditHashInput } from './audit-hash'

const key = new Uint8Array(randomBytes(32))

const event: AuditHashInput = {
  previousHash: GENESIS_HASH,
  createdAt: new Date('2026-11-02T09:30:00.123Z'),
  type: 'auth.sign_in.succeeded',
  organizationId: 'org0000000000000000000000a',
  actorUserId: 'usr0000000000000000000000a',
  subjectUserId: null,
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0',
  details: { method: 'password', attempt: 1 },
}

describe('canonicalJson (RFC 8785 style)', () => {
  it('sorts object keys by code unit at every depth, keeps array order, adds no whitespace', () => {
    const a = canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' } })
    const b = canonicalJson({ a: { c: 'x', d: [3, 1] }, b: 1 })
    expect(a).toBe('{"a":{"c":"x","d":[3,1]},"b":1}')
    expect(b).toBe(a)
  })

  it('orders integer-like keys as strings, unlike JSON.stringify', () => {
    expect(canonicalJson({ a: 3, 10: 1, 2: 2 })).toBe('{"10":1,"2":2,"a":3}')
  })

  it('refuses values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError)
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError)
  })
})

describe('audit event hash', () => {
  it('serializes an explicit field list with an ISO millisecond timestamp (format pinned: changing it breaks old chains)', () => {
    expect(serializeAuditEventForHash(event)).toBe(
      `["gatehouse.audit.v1","${GENESIS_HASH}","2026-11-02T09:30:00.123Z","auth.sign_in.succeeded",` +
        `"org0000000000000000000000a","usr0000000000000000000000a",null,"203.0.113.7","Mozilla/5.0",{"attempt":1,"method":"password"}]`,
    )
  })

  it('is HMAC-SHA256 hex of that serialization under the chain key', () => {
    const expected = createHmac('sha256', key).update(serializeAuditEventForHash(event)).digest('hex')
    expect(computeAuditEventHash(event, key)).toBe(expected)
    expect(computeAuditEventHash(event, key)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('depends on the key: without APP_SECRET the chain cannot be recomputed after an edit', () => {
    expect(computeAuditEventHash(event, new Uint8Array(randomBytes(32)))).not.toBe(computeAuditEventHash(event, key))
  })

  it('does not depend on the key order of details', () => {
    expect(computeAuditEventHash({ ...event, details: { attempt: 1, method: 'password' } }, key)).toBe(computeAuditEventHash(event, key))
  })

  it('changes when any hashed field changes, including the link to the previous event', () => {
    const base = computeAuditEventHash(event, key)
    const variants: Partial<AuditHashInput>[] = [
      { previousHash: 'f'.repeat(64) },
      { createdAt: new Date('2026-11-02T09:30:00.124Z') },
      { type: 'auth.sign_in.failed' },
      { organizationId: null },
      { actorUserId: 'usr0000000000000000000000b' },
      { subjectUserId: 'usr0000000000000000000000a' },
      { ip: '203.0.113.8' },
      { userAgent: null },
      { details: { method: 'password', attempt: 2 } },
    ]
    for (const variant of variants) expect(computeAuditEventHash({ ...event, ...variant }, key)).not.toBe(base)
  })

  it('keeps null and empty string apart (no ambiguous encoding)', () => {
    expect(computeAuditEventHash({ ...event, ip: '' }, key)).not.toBe(computeAuditEventHash({ ...event, ip: null }, key))
  })
})
