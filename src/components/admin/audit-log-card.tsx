/**
 * The organization's audit trail for its admins (SPEC §6/§7): newest first, 25 at a time, with
 * people shown by name where they belong to the organization.
 */
import { useState } from 'react'
import { describeFormError } from '../../lib/form-errors'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { LocalTime } from '../local-time'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'
import { Card } from '../ui/card'
import { Spinner } from '../ui/spinner'

const PAGE_SIZE = 25

type AuditEvent = RouterOutputs['admin']['audit']['list']['events'][number]

/** "auth.sign_in.failed" → "Sign in failed" (the catalog's dotted names, readable). */
function describeEventType(type: string): string {
  const words = type.replace(/^auth\./, '').replace(/[._]/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function describeDetails(details: AuditEvent['details']): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' · ')
}

export function AuditLogCard({ peopleById }: { peopleById: ReadonlyMap<string, string> }) {
  const [pages, setPages] = useState<Array<number | null>>([null])
  return (
    <Card title="Audit log" description="Security events in your organization: sign-ins, MFA and session changes, role and policy changes. The log is hash-chained; operators verify it with gatehouse audit:verify.">
      <ol className="flex flex-col divide-y divide-slate-100" data-testid="audit-log">
        {pages.map((beforeId, index) => (
          <AuditLogPage
            key={beforeId ?? 'first'}
            beforeId={beforeId}
            peopleById={peopleById}
            onMore={index === pages.length - 1 ? (nextBeforeId) => setPages((current) => [...current, nextBeforeId]) : undefined}
          />
        ))}
      </ol>
    </Card>
  )
}

function AuditLogPage({ beforeId, peopleById, onMore }: { beforeId: number | null; peopleById: ReadonlyMap<string, string>; onMore?: (nextBeforeId: number) => void }) {
  const page = trpc.admin.audit.list.useQuery({ limit: PAGE_SIZE, beforeId })
  if (page.isError) return <Alert>{describeFormError(page.error).message}</Alert>
  if (!page.data) {
    return (
      <li className="flex items-center gap-2 py-3 text-sm text-slate-600" role="status">
        <Spinner /> Loading events…
      </li>
    )
  }
  if (page.data.events.length === 0 && beforeId === null) return <li className="py-3 text-sm text-slate-600">No events yet.</li>
  const person = (id: string | null) => (id ? (peopleById.get(id) ?? 'someone outside the organization') : null)
  return (
    <>
      {page.data.events.map((event) => (
        <li key={event.id} className="flex flex-col gap-0.5 py-3 text-sm sm:flex-row sm:items-baseline sm:justify-between sm:gap-4">
          <div className="min-w-0">
            <span className="font-medium text-slate-900">{describeEventType(event.type)}</span>
            {person(event.subjectUserId) && <span className="text-slate-600"> · {person(event.subjectUserId)}</span>}
            {event.actorUserId && event.actorUserId !== event.subjectUserId && <span className="text-slate-500"> (by {person(event.actorUserId)})</span>}
            {Object.keys(event.details).length > 0 && <div className="truncate text-xs text-slate-500">{describeDetails(event.details)}</div>}
          </div>
          <div className="shrink-0 text-xs text-slate-500">
            {event.ip && <span className="mr-2">{event.ip}</span>}
            <LocalTime iso={event.createdAt} />
          </div>
        </li>
      ))}
      {onMore && page.data.nextBeforeId !== null && (
        <li className="pt-3">
          <Button variant="secondary" onClick={() => onMore(page.data.nextBeforeId!)}>
            Show older events
          </Button>
        </li>
      )}
    </>
  )
}
