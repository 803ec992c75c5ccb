/**
 * Runs on both sides (isomorphic): marks the response of the page being rendered as "service
 * unavailable" (503 + `Retry-After`) when the database cannot be reached during SSR, so load
 * balancers and monitors see an outage, not an application error. In the browser it does nothing.
 */
import { createIsomorphicFn } from '@tanstack/react-start'
import { setResponseHeader, setResponseStatus } from '@tanstack/react-start/server'

/** Seconds a client should wait before trying again (the API's 503 says the same). */
const RETRY_AFTER_SECONDS = 5

export const markPageServiceUnavailable = createIsomorphicFn()
  .server(() => {
    setResponseStatus(503)
    setResponseHeader('retry-after', String(RETRY_AFTER_SECONDS))
  })
  .client(() => {})
