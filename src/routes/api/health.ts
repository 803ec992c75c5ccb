/** `GET /api/health`: load-balancer probe. 200 when the database answers, 503 while it does not. */
import { createFileRoute } from '@tanstack/react-router'
import { checkHealth } from '../../server/health'

export const Route = createFileRoute('/api/health')({
  server: {
    handlers: {
      GET: async () => {
        const report = await checkHealth()
        return Response.json(report, {
          status: report.status === 'ok' ? 200 : 503,
          headers: { 'cache-control': 'no-store' },
        })
      },
    },
  },
})
