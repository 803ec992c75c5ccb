/**
 * /dev/outbox: the development mail outbox. Password-reset and verification mail lands here when
 * no SMTP relay is configured, so a developer can click the link. Production never serves it: the
 * production build does not even ask (`import.meta.env.PROD`), and the server's `dev.outbox`
 * answers NOT_FOUND in production regardless. A message's HTML part is shown sandboxed, never as
 * the page's own markup (components/dev/outbox-html-part.tsx says why).
 */
import { createFileRoute, notFound } from '@tanstack/react-router'
import { Fragment } from 'react'
import { OutboxHtmlPart } from '../components/dev/outbox-html-part'
import { getAppErrorCode } from '../lib/app-errors'
import { trpc } from '../lib/trpc'

export const Route = createFileRoute('/dev/outbox')({
  head: () => ({ meta: [{ title: 'Dev outbox · Gatehouse' }, { name: 'robots', content: 'noindex' }] }),
  loader: async ({ context }) => {
    if (import.meta.env.PROD) throw notFound()
    try {
      await context.trpcUtils.dev.outbox.ensureData()
    } catch (error) {
      if (getAppErrorCode(error) === 'NOT_FOUND') throw notFound()
      throw error
    }
  },
  component: DevOutboxPage,
})

/** One fixed format on server and client (a locale or time-zone dependent string would not hydrate). */
function formatUtc(isoTime: string): string {
  return `${isoTime.slice(0, 10)} ${isoTime.slice(11, 19)} UTC`
}

const URL_PATTERN = /(https?:\/\/[^\s<>"]+)/g

/** The text with every http(s) URL turned into a link (React escapes the rest). */
function TextWithLinks({ text }: { text: string }) {
  const parts = text.split(URL_PATTERN)
  return (
    <>
      {parts.map((part, index) =>
        // split() with a capturing group puts the matches at the odd indexes.
        index % 2 === 1 ? (
          <a key={index} href={part} className="break-all text-sky-700 underline hover:text-sky-900">
            {part}
          </a>
        ) : (
          <Fragment key={index}>{part}</Fragment>
        ),
      )}
    </>
  )
}

function DevOutboxPage() {
  const [messages, query] = trpc.dev.outbox.useSuspenseQuery()
  return (
    <main className="mx-auto flex max-w-3xl flex-col gap-6 px-6 py-16">
      <div className="flex items-center justify-between gap-4">
        <div>
          <h1 className="text-3xl font-semibold tracking-tight">Dev outbox</h1>
          <p className="text-slate-600">Mail the app would have sent, newest first. Development only.</p>
        </div>
        <button
          type="button"
          className="rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-500 focus-visible:ring-offset-2 disabled:opacity-60"
          onClick={() => void query.refetch()}
          disabled={query.isFetching}
        >
          {query.isFetching ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {messages.length === 0 ? (
        <p className="rounded-md border border-dashed border-slate-300 p-6 text-center text-slate-600" data-testid="outbox-empty">
          No mail yet. Ask for a password reset or sign up to see one here.
        </p>
      ) : (
        <ul className="flex flex-col gap-4" data-testid="outbox-messages">
          {messages.map((message) => (
            <li key={message.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
              <article aria-label={message.subject}>
                <header className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
                  <h2 className="font-medium">{message.subject}</h2>
                  <time dateTime={message.createdAt} className="text-sm text-slate-500">
                    {formatUtc(message.createdAt)}
                  </time>
                </header>
                <p className="mb-3 text-sm text-slate-600">
                  To: <span className="font-mono">{message.to}</span>
                </p>
                <pre className="whitespace-pre-wrap break-words font-sans text-sm text-slate-800">
                  <TextWithLinks text={message.text} />
                </pre>
                {message.html !== null && <OutboxHtmlPart subject={message.subject} html={message.html} />}
              </article>
            </li>
          ))}
        </ul>
      )}
    </main>
  )
}
