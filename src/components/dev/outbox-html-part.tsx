/**
 * The HTML alternative of an outbox message on /dev/outbox: rendered in a sandboxed frame, and as
 * escaped source.
 *
 * Why a sandbox and not the markup itself: the outbox page runs on the app's origin and lists live
 * reset links for every account, and a mail's HTML carries values other people chose (a user
 * agent, an address). The templates escape them today; one missed escape in a future template
 * would make this page a stored-XSS sink (CWE-79). `sandbox=""` (HTML Standard §4.8.5) — no
 * allow-scripts, no allow-same-origin — renders the message in an opaque origin: no script runs
 * (development's CSP allows inline script for Vite, so the CSP alone would not stop one), and the
 * document can reach neither the app's DOM, cookies and storage, nor forms, popups or the top
 * window. `srcdoc` needs no extra URL scheme (blob:, data:) allowed anywhere.
 *
 * The price: links in the rendered view do not open (the sandbox blocks popups and the app refuses
 * to be framed); the text part's links above are the ones to click. The source view is React text
 * (escaped), for checking what a template produced.
 */

export function OutboxHtmlPart({ subject, html }: { subject: string; html: string }) {
  return (
    <details className="mt-3 rounded-md border border-slate-200" data-testid="outbox-html-part">
      <summary className="cursor-pointer px-3 py-2 text-sm font-medium text-slate-700">HTML part</summary>
      <div className="flex flex-col gap-2 border-t border-slate-200 p-3">
        <iframe
          sandbox=""
          srcDoc={html}
          title={`HTML part of “${subject}”`}
          referrerPolicy="no-referrer"
          loading="lazy"
          className="h-72 w-full resize-y rounded border border-slate-200 bg-white"
        />
        <details>
          <summary className="cursor-pointer text-sm text-slate-600">Source</summary>
          <pre className="mt-2 max-h-72 overflow-auto whitespace-pre-wrap break-words rounded bg-slate-50 p-2 font-mono text-xs text-slate-800">{html}</pre>
        </details>
      </div>
    </details>
  )
}
