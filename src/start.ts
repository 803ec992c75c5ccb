/**
 * Start instance: request middleware that runs for every request (pages, server routes, server
 * functions) before any handler, and function middleware that wraps every server function.
 *
 * Each `.server()` body runs only on the server; Start's compiler strips them (and so the
 * `src/server/` imports they use) from the client bundle, which also loads this file.
 */
import { createMiddleware, createStart } from '@tanstack/react-start'
import { serverFnAppErrorAdapter } from './functions/server-fn-error'
import { requireSameOriginServerFnRequest } from './server/functions/server-fn-csrf'
import { prepareServerFnFailure } from './server/functions/server-fn-errors'
import { applyResponsePolicies } from './server/http/response-policies'

/** Security headers everywhere; `Cache-Control: no-store` on everything that belongs to a session. */
const responsePoliciesMiddleware = createMiddleware().server(async ({ request, next }) => {
  const result = await next()
  applyResponsePolicies(request, result.response)
  return result
})

/**
 * CSRF for server functions (SPEC §7), before Start parses the payload or resolves the function.
 * `/api/trpc` enforces the same origin rule in its own handler (src/server/trpc/http-handler.ts).
 */
const serverFnCsrfMiddleware = createMiddleware().server(({ request, handlerType, next }) => {
  if (handlerType === 'serverFn') requireSameOriginServerFnRequest(request)
  return next()
})

/** Every server function's failure leaves as a catalog error or a generic one: never SQL or a stack. */
const serverFnErrorPolicyMiddleware = createMiddleware({ type: 'function' }).server(async ({ next, serverFnMeta }) => {
  try {
    return await next()
  } catch (error) {
    throw prepareServerFnFailure(error, serverFnMeta.name)
  }
})

export const startInstance = createStart(() => ({
  requestMiddleware: [responsePoliciesMiddleware, serverFnCsrfMiddleware],
  functionMiddleware: [serverFnErrorPolicyMiddleware],
  serializationAdapters: [serverFnAppErrorAdapter],
}))
