/** What the page shows between `auth.beginSignIn` answering SSO and the browser leaving for the IdP. */
import { Spinner } from '../ui/spinner'

/** A polite live region, so screen readers hear why the page is about to change. */
export function SsoRedirectNotice() {
  return (
    <div role="status" className="flex items-center gap-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-3 text-sm text-sky-900">
      <Spinner />
      Taking you to your organization’s sign-in…
    </div>
  )
}
