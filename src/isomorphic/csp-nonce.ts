/**
 * Runs on both sides (isomorphic), two implementations: the nonce the router puts on inline scripts. On the
 * server it is the current request's (src/server/http/csp-nonce.ts); in the browser the router
 * reads it back from the `csp-nonce` meta tag it rendered (browsers hide `nonce` attributes from
 * script, not meta content), so hydration renders the same attributes.
 */
import { createIsomorphicFn } from '@tanstack/react-start'
import { getRequest } from '@tanstack/react-start/server'
import { getCspNonceForRender } from '../server/http/csp-nonce'

export const getRenderNonce = createIsomorphicFn()
  .server((): string | undefined => getCspNonceForRender(getRequest()))
  .client((): string | undefined => document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.content || undefined)
