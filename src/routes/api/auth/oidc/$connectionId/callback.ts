/** `GET /api/auth/oidc/<connectionId>/callback`: where an OIDC identity provider sends the browser back. */
import { createFileRoute } from '@tanstack/react-router'
import { handleOidcCallbackRoute } from '../../../../../server/sso/sso-routes'

export const Route = createFileRoute('/api/auth/oidc/$connectionId/callback')({
  server: {
    handlers: {
      GET: ({ request, params }) => handleOidcCallbackRoute(request, params.connectionId),
    },
  },
})
