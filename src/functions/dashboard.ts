/**
 * Client-importable: server functions behind the dashboard. Route components import this file;
 * Start's compiler replaces each handler with an RPC stub in the client bundle, so the
 * `src/server/` import below is used only on the server.
 */
import { createServerFn } from '@tanstack/react-start'
import { loadDashboardSummary } from '../server/server-fn/dashboard-summary'
import { requireSessionMiddleware } from './middleware'

/** The viewer's live session count and organization name; refused without a fully authenticated session. */
export const getDashboardSummary = createServerFn({ method: 'GET' })
  .middleware([requireSessionMiddleware])
  .handler(({ context }) => loadDashboardSummary(context))
