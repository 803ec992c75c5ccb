/**
 * The organization's audit trail for its admins (SPEC §6/§7): newest first, 25 at a time, each
 * event as a sentence (src/lib/audit-sentences.ts) with people shown by name where they belong to
 * the organization.
 */
import { useState } from 'react'
import { describeAuditEvent } from '../../lib/audit-sentences'
import { describeUserAgent } from '../../lib/auth-labels'
import { describeFormError } from '../../lib/form-errors'
import { trpc } from '../../lib/trpc'
import { LocalTime } from '../local-time'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'
import { Card } from '../ui/card'
import { Spinner } from '../ui/spinner'

const PAGE_SIZE = 25

export function AuditLogCard({ peopleById }: { peopleById: ReadonlyMap<string, string> }) {
  // Keyset paging: each older page starts before the last event of the page in front of it. The
  // stack of cursors is what "Newer" walks back; the first page (null) always shows the latest.
  const [cursors, setCursors] = useState<Array<number | null>>([null])
  const beforeId = cursors[cursors.length - 1]!
  // The previous page stays on screen while the next one loads (no flash of a spinner).
  const page = trpc.admin.audit.list.useQuery({ limit: PAGE_SIZE, beforeId }, { placeholderData: (previous) => previous })
  const pageNumber = cursors.length
  const lookupPerson = (id: string) => peopleById.get(id) ?? null
  const nextBeforeId = page.data?.nextBeforeId ?? null

  return (
    <Card title="Audit log" description="Who signed in, changed their security settings or changed someone else’s, newest first. Entries cannot be edited or removed.">
      {page.isError ? (
        <Alert>{describeFormError(page.error).message}</Alert>
      ) : !page.data ? (
        <p className="flex items-center gap-2 py-3 text-sm text-slate-600" role="status">
          <Spinner /> Loading events…
        </p>
      ) : page.data.events.length === 0 ? (
        <p className="py-3 text-sm text-slate-600">{pageNumber === 1 ? 'Nothing has happened yet.' : 'No older events.'}</p>
      ) : (
        <ol className="flex flex-col divide-y divide-slate-100" data-testid="audit-log" aria-label={`Audit log, page ${pageNumber}`}>
          {page.data.events.map((event) => (
            <li key={event.id} className="flex flex-col gap-0.5 py-3 text-sm sm:flex-row sm:items-baseline sm:justify-between sm:gap-4" data-testid="audit-event">
              <p className="min-w-0 text-slate-900">{describeAuditEvent(event, lookupPerson)}</p>
              <p className="shrink-0 text-xs text-slate-500 sm:text-right">
                <LocalTime iso={event.createdAt} />
                {(event.ip || event.userAgent) && (
                  <span className="block">{[event.userAgent ? describeUserAgent(event.userAgent) : null, event.ip].filter(Boolean).join(' · ')}</span>
                )}
              </p>
            </li>
          ))}
        </ol>
      )}
      {(pageNumber > 1 || nextBeforeId !== null) && (
        <nav className="mt-4 flex items-center justify-between gap-3 border-t border-slate-100 pt-4" aria-label="Audit log pages">
          <Button variant="secondary" disabled={pageNumber === 1} onClick={() => setCursors((current) => current.slice(0, -1))}>
            Newer events
          </Button>
          <span className="text-xs text-slate-500">Page {pageNumber}</span>
          <Button variant="secondary" disabled={nextBeforeId === null} onClick={() => nextBeforeId !== null && setCursors((current) => [...current, nextBeforeId])}>
            Older events
          </Button>
        </nav>
      )}
    </Card>
  )
}
