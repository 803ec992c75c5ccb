/** Server-only: audit events recorded on behalf of a request, with its IP and user agent filled in. */
import type { Database } from '../db/client'
import type { AuditEventType } from './audit-event-types'
import { recordAuditEvent, type AuditEventInput } from './audit-log'

export type AuditFields = {
  organizationId?: string | null
  actorUserId?: string | null
  subjectUserId?: string | null
  details?: Record<string, unknown>
}

type AuditingRequest = { db: Database; clientIp: string; userAgent: string | null }

/** The event as the request would record it (for `runAuditedTransaction`, which appends it itself). */
export function requestAuditEvent(request: Omit<AuditingRequest, 'db'>, type: AuditEventType, fields: AuditFields = {}): AuditEventInput {
  return {
    type,
    organizationId: fields.organizationId ?? null,
    actorUserId: fields.actorUserId ?? null,
    subjectUserId: fields.subjectUserId ?? null,
    ip: request.clientIp,
    userAgent: request.userAgent,
    details: fields.details ?? {},
  }
}

/** Appends one event to the hash-chained log for the request. */
export async function auditRequest(request: AuditingRequest, type: AuditEventType, fields: AuditFields = {}): Promise<void> {
  await recordAuditEvent(request.db, requestAuditEvent(request, type, fields))
}

/** Records an action a user took on their own account (actor = subject = the user). */
export function auditOwnAction(
  request: AuditingRequest,
  user: { id: string; organizationId: string | null },
  type: AuditEventType,
  details?: Record<string, unknown>,
): Promise<void> {
  return auditRequest(request, type, { actorUserId: user.id, subjectUserId: user.id, organizationId: user.organizationId, details })
}
