/** `GET /api/auth/saml/<connectionId>/complete`: the second step of a SAML login, in the browser that started it. */
import { createFileRoute } from '@tanstack/react-router'
import { handleSamlCompleteRoute } from '../../../../../server/sso/sso-routes'

export const Route = createFileRoute('/api/auth/saml/$connectionId/complete')({
  server: {
    handlers: {
      GET: ({ request, params }) => handleSamlCompleteRoute(request, params.connectionId),
    },
  },
})
