/** Server-only: records an audit event with the request's IP and user agent filled in. */
import type { AuditEventType } from '../audit/audit-event-types'
import { recordAuditEvent } from '../audit/audit-log'
import type { TRPCContext } from './context'

type AuditFields = {
  organizationId?: string | null
  actorUserId?: string | null
  subjectUserId?: string | null
  details?: Record<string, unknown>
}

/** Appends one event to the hash-chained log for the current request. */
export function auditFromContext(ctx: Pick<TRPCContext, 'db' | 'clientIp' | 'userAgent'>, type: AuditEventType, fields: AuditFields = {}): Promise<void> {
  return recordAuditEvent(ctx.db, {
    type,
    organizationId: fields.organizationId ?? null,
    actorUserId: fields.actorUserId ?? null,
    subjectUserId: fields.subjectUserId ?? null,
    ip: ctx.clientIp,
    userAgent: ctx.userAgent,
    details: fields.details ?? {},
  }).then(() => undefined)
}

/** Records an action the signed-in user took on their own account (actor = subject = the user). */
export function auditOwnAction(
  ctx: Pick<TRPCContext, 'db' | 'clientIp' | 'userAgent'> & { user: { id: string; organizationId: string | null } },
  type: AuditEventType,
  details?: Record<string, unknown>,
): Promise<void> {
  return auditFromContext(ctx, type, { actorUserId: ctx.user.id, subjectUserId: ctx.user.id, organizationId: ctx.user.organizationId, details })
}
