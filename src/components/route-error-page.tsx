/** What a route shows when its loader or component throws unexpectedly. */
import { useRouter, type ErrorComponentProps } from '@tanstack/react-router'
import { Button } from './ui/button'

/** Generic on purpose: the error's message may hold internals and is never shown. */
export function RouteErrorPage({ reset }: ErrorComponentProps) {
  const router = useRouter()
  return (
    <div className="mx-auto max-w-md px-4 py-16 text-center" role="alert">
      <h1 className="text-xl font-semibold text-slate-900">Something went wrong</h1>
      <p className="mt-2 text-sm text-slate-600">The page could not be loaded. Please try again.</p>
      <Button
        className="mt-6"
        variant="secondary"
        onClick={() => {
          reset()
          void router.invalidate()
        }}
      >
        Try again
      </Button>
    </div>
  )
}
