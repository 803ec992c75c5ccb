// docs/examples/profile-server-fn.ts
/**
 * Client-importable: the guide's example server function, guarded like `roleProcedure('admin')`.
 * Start's compiler replaces the handler with an RPC stub in the client bundle.
 */
import { createServerFn } from '@tanstack/react-start'
import { count, eq } from 'drizzle-orm'
import { users } from '../../db/schema'
import { requireRoleMiddleware } from '../../src/functions/middleware'

/** The number of people in the caller's organization; UNAUTHENTICATED / FORBIDDEN like the tRPC guards. */
export const getTeamSize = createServerFn({ method: 'GET' })
  .middleware([requireRoleMiddleware('admin')])
  .handler(async ({ context }) => {
    if (!context.organization) return 0
    const [row] = await context.requestContext.db.select({ total: count() }).from(users).where(eq(users.organizationId, context.organization.id))
    return row?.total ?? 0
  })
