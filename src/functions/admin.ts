/**
 * Client-importable: server functions behind the admin console, guarded like `roleProcedure('admin')`
 * (Start's compiler keeps only an RPC stub of each handler in the client bundle).
 */
import { queryOptions } from '@tanstack/react-query'
import { createServerFn } from '@tanstack/react-start'
import { loadOrganizationSummary } from '../server/server-fn/organization-summary'
import { requireRoleMiddleware } from './middleware'

/** Member, MFA and live-session counts of the admin's own organization; FORBIDDEN below admin. */
export const getOrganizationSummary = createServerFn({ method: 'GET' })
  .middleware([requireRoleMiddleware('admin')])
  .handler(({ context }) => loadOrganizationSummary(context))

/**
 * The summary as a TanStack Query, shared by the console's loader and its components, so an
 * action that changes a count (revoking sessions, disabling someone, resetting MFA) invalidates it
 * like any tRPC query instead of leaving the loader's first answer on screen.
 */
export const organizationSummaryQueryOptions = queryOptions({
  queryKey: ['admin', 'organization-summary'],
  queryFn: () => getOrganizationSummary(),
})
