/** `GET /api/auth/saml/<connectionId>/metadata`: the SP metadata of one SAML connection. */
import { createFileRoute } from '@tanstack/react-router'
import { handleSamlMetadataRoute } from '../../../../../server/sso/sso-routes'

export const Route = createFileRoute('/api/auth/saml/$connectionId/metadata')({
  server: {
    handlers: {
      GET: ({ request, params }) => handleSamlMetadataRoute(request, params.connectionId),
    },
  },
})
