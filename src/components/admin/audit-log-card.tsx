/**
 * The organization's audit trail for its admins (SPEC §6/§7): newest first, 25 at a time, each
 * event as a sentence (src/lib/audit-sentences.ts) with people shown by name where they belong to
 * the organization. Filters narrow it by event type, person (actor or subject) and date range.
 */
import { useId, useState, type ReactNode } from 'react'
import type { AuditEventType } from '../../server/audit/audit-event-types'
import { AUDIT_EVENT_OPTIONS } from '../../lib/audit-event-labels'
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

type AuditFilters = { type: AuditEventType | ''; userId: string; fromDate: string; toDate: string }

const NO_FILTERS: AuditFilters = { type: '', userId: '', fromDate: '', toDate: '' }

/** A `yyyy-mm-dd` date input as an instant: the start of that day in the reader's time zone. */
function startOfLocalDay(date: string, plusDays = 0): string | null {
  if (!date) return null
  const start = new Date(`${date}T00:00:00`)
  if (Number.isNaN(start.getTime())) return null
  start.setDate(start.getDate() + plusDays)
  return start.toISOString()
}

const SELECT_CLASS =
  'min-h-10 rounded-md border border-slate-300 bg-white px-2 text-sm text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500'

/** A label above its control (`htmlFor`, so the name is the label alone, not the options' text). */
function FilterField({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1.5 text-sm">
      <label htmlFor={id} className="font-medium text-slate-800">
        {label}
      </label>
      {children}
    </div>
  )
}

export function AuditLogCard({ people }: { people: ReadonlyArray<{ id: string; name: string }> }) {
  const filterId = useId()
  const peopleById = new Map(people.map((person) => [person.id, person.name]))
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS)
  // Keyset paging: each older page starts before the last event of the page in front of it. The
  // stack of cursors is what "Newer" walks back; the first page (null) always shows the latest.
  const [cursors, setCursors] = useState<Array<number | null>>([null])
  const beforeId = cursors[cursors.length - 1]!
  const isFiltered = Object.values(filters).some(Boolean)
  function changeFilter(change: Partial<AuditFilters>) {
    setFilters((current) => ({ ...current, ...change }))
    setCursors([null])
  }
  // The previous page stays on screen while the next one loads (no flash of a spinner).
  const page = trpc.admin.audit.list.useQuery(
    {
      limit: PAGE_SIZE,
      beforeId,
      type: filters.type || null,
      userId: filters.userId || null,
      from: startOfLocalDay(filters.fromDate),
      // The "to" day is included: up to the start of the day after it.
      to: startOfLocalDay(filters.toDate, 1),
    },
    { placeholderData: (previous) => previous },
  )
  const pageNumber = cursors.length
  const lookupPerson = (id: string) => peopleById.get(id) ?? null
  const nextBeforeId = page.data?.nextBeforeId ?? null

  return (
    <Card title="Audit log" description="Who signed in, changed their security settings or changed someone else’s, newest first. Entries cannot be edited or removed.">
      <form className="mb-4 flex flex-wrap items-end gap-3" aria-label="Filter the audit log" onSubmit={(event) => event.preventDefault()}>
        <FilterField id={`${filterId}-type`} label="Event">
          <select id={`${filterId}-type`} className={SELECT_CLASS} value={filters.type} onChange={(event) => changeFilter({ type: event.target.value as AuditEventType | '' })}>
            <option value="">All events</option>
            {AUDIT_EVENT_OPTIONS.map((option) => (
              <option key={option.type} value={option.type}>
                {option.label}
              </option>
            ))}
          </select>
        </FilterField>
        <FilterField id={`${filterId}-person`} label="Person">
          <select id={`${filterId}-person`} className={SELECT_CLASS} value={filters.userId} onChange={(event) => changeFilter({ userId: event.target.value })}>
            <option value="">Everyone</option>
            {people.map((person) => (
              <option key={person.id} value={person.id}>
                {person.name}
              </option>
            ))}
          </select>
        </FilterField>
        <FilterField id={`${filterId}-from`} label="From">
          <input id={`${filterId}-from`} type="date" className={SELECT_CLASS} value={filters.fromDate} max={filters.toDate || undefined} onChange={(event) => changeFilter({ fromDate: event.target.value })} />
        </FilterField>
        <FilterField id={`${filterId}-to`} label="To">
          <input id={`${filterId}-to`} type="date" className={SELECT_CLASS} value={filters.toDate} min={filters.fromDate || undefined} onChange={(event) => changeFilter({ toDate: event.target.value })} />
        </FilterField>
        {isFiltered && (
          <Button
            variant="ghost"
            onClick={() => {
              setFilters(NO_FILTERS)
              setCursors([null])
            }}
          >
            Clear filters
          </Button>
        )}
      </form>
      {page.isError ? (
        <Alert>{describeFormError(page.error).message}</Alert>
      ) : !page.data ? (
        <p className="flex items-center gap-2 py-3 text-sm text-slate-600" role="status">
          <Spinner /> Loading events…
        </p>
      ) : page.data.events.length === 0 ? (
        <p className="py-3 text-sm text-slate-600">{pageNumber > 1 ? 'No older events.' : isFiltered ? 'No events match these filters.' : 'Nothing has happened yet.'}</p>
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
