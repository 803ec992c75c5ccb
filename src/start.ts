/**
 * Start instance: request middleware that runs for every request (pages, server routes, server
 * functions) before any handler.
 */
import { createMiddleware, createStart } from '@tanstack/react-start'
import { applyResponsePolicies } from './server/http/response-policies'

const securityHeadersMiddleware = createMiddleware().server(async ({ next }) => {
  const result = await next()
  applyResponsePolicies(result.response)
  return result
})

export const startInstance = createStart(() => ({
  requestMiddleware: [securityHeadersMiddleware],
}))
