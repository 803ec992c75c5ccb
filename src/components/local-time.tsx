/**
 * A timestamp in the reader's time zone. The server cannot know that zone, so the server HTML
 * (and the hydration render, which must match it) shows UTC; the browser switches to local time
 * right after hydrating. Without this, hydration would warn about mismatched text.
 */
import { useHydrated } from '@tanstack/react-router'

const UTC_FORMAT = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })

/** Renders `<time>` for an ISO timestamp. */
export function LocalTime({ iso }: { iso: string }) {
  const isHydrated = useHydrated()
  const date = new Date(iso)
  const text = isHydrated
    ? new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(date)
    : `${UTC_FORMAT.format(date)} UTC`
  return (
    <time dateTime={iso} title={iso}>
      {text}
    </time>
  )
}
