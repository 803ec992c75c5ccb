/** `GET /api/auth/sso/start?connection=<id>&redirect=<path>`: starts a single sign-on at one connection. */
import { createFileRoute } from '@tanstack/react-router'
import { handleSsoStartRoute } from '../../../../server/sso/sso-routes'

export const Route = createFileRoute('/api/auth/sso/start')({
  server: {
    handlers: {
      GET: ({ request }) => handleSsoStartRoute(request),
    },
  },
})
