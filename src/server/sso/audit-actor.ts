/** Server-only: who made an SSO administration change, as the audit log records it. */
import { recordAuditEvent, type AuditEventInput } from '../audit/audit-log'
import type { Database } from '../db/client'

/**
 * The actor of a change: an admin through the console (user id, address, agent) or an operator
 * through the CLI (`byOperator: true`, written into the event's details).
 */
export type AuditActor = {
  actorUserId?: string | null
  ip?: string | null
  userAgent?: string | null
  byOperator?: boolean
}

/** Appends an event attributed to `actor`; `byOperator` becomes a details flag as the CLI's other events have it. */
export async function recordActorAuditEvent(db: Database, actor: AuditActor, event: Omit<AuditEventInput, 'actorUserId' | 'ip' | 'userAgent'>): Promise<void> {
  await recordAuditEvent(db, {
    ...event,
    actorUserId: actor.actorUserId ?? null,
    ip: actor.ip ?? null,
    userAgent: actor.userAgent ?? null,
    details: { ...event.details, ...(actor.byOperator ? { byOperator: true } : {}) },
  })
}
