/**
 * Start instance: request middleware for requests Start serves and function middleware that wraps
 * every server function. The request policies themselves (body limit, methods, CSRF, security
 * headers) run earlier, once, in `src/server/request-pipeline.ts`.
 *
 * Each `.server()` body runs only on the server; Start's compiler strips them (and so the
 * `src/server/` imports they use) from the client bundle, which also loads this file.
 */
import { createMiddleware, createStart } from '@tanstack/react-start'
import { serverFnAppErrorAdapter } from './functions/app-error-transport'
import { answerUnknownServerFnAsNotFound, prepareServerFnFailure, refuseServerFnCallFromAnotherSite } from './server/server-fn/error-policy'

/**
 * Server-function calls, answered in Start's wire format so the client reads the catalog code:
 * a call from another site (refused by the pipeline, or one whose path spelling the pipeline did
 * not recognise: here Start itself says it is a server function) stops here, before Start parses
 * a payload or resolves the function; a call to an unknown id answers NOT_FOUND (404), not a 500.
 */
const serverFnRequestMiddleware = createMiddleware().server(({ request, handlerType, next }) => {
  if (handlerType !== 'serverFn') return next()
  refuseServerFnCallFromAnotherSite(request)
  return answerUnknownServerFnAsNotFound(() => next())
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
  requestMiddleware: [serverFnRequestMiddleware],
  functionMiddleware: [serverFnErrorPolicyMiddleware],
  serializationAdapters: [serverFnAppErrorAdapter],
}))
