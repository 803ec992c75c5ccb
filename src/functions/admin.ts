/**
 * Client-importable: server functions behind the admin console, guarded like `roleProcedure('admin')`
 * (Start's compiler keeps only an RPC stub of each handler in the client bundle).
 */
import { createServerFn } from '@tanstack/react-start'
import { loadOrganizationSummary } from '../server/server-fn/organization-summary'
import { requireRoleMiddleware } from './middleware'

/** Member, MFA and live-session counts of the admin's own organization; FORBIDDEN below admin. */
export const getOrganizationSummary = createServerFn({ method: 'GET' })
  .middleware([requireRoleMiddleware('admin')])
  .handler(({ context }) => loadOrganizationSummary(context))
