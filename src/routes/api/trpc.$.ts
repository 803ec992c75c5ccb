/**
 * The tRPC HTTP endpoint. Outsiders reach procedures only through here; every procedure checks
 * its own authorization (the route does not).
 */
import { createFileRoute } from '@tanstack/react-router'
import { handleTrpcRequest } from '../../server/trpc/http-handler'

export const Route = createFileRoute('/api/trpc/$')({
  server: {
    handlers: {
      GET: ({ request }) => handleTrpcRequest(request),
      POST: ({ request }) => handleTrpcRequest(request),
    },
  },
})
