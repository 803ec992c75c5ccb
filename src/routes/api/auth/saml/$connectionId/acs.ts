/** `POST /api/auth/saml/<connectionId>/acs`: the SAML assertion consumer (the IdP's cross-site HTTP-POST). */
import { createFileRoute } from '@tanstack/react-router'
import { handleSamlAcsRoute } from '../../../../../server/sso/sso-routes'

export const Route = createFileRoute('/api/auth/saml/$connectionId/acs')({
  server: {
    handlers: {
      POST: ({ request, params }) => handleSamlAcsRoute(request, params.connectionId),
    },
  },
})
