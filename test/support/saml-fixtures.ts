/**
 * SAML connection rows for tests, inserted directly so a test controls every column (including
 * states the editing functions refuse, such as IdP-initiated login on); `createSamlConnection` is
 * tested through the console and the CLI. Uses the test IdP keys of `saml-responses.ts`.
 */
import { ssoConnections, type SsoConnection } from '../../db/schema'
import { getDb, type Database } from '../../src/server/db/client'
import { generateId } from '../../src/server/ids'
import { now } from '../../src/server/clock'
import { NO_OIDC_SETTINGS } from '../../src/server/sso/connections'

export async function createTestSamlConnection(
  organizationId: string,
  settings: Partial<SsoConnection> & Pick<SsoConnection, 'samlIdpEntityId' | 'samlIdpSsoUrl' | 'samlIdpCertificates'>,
  db: Database = getDb(),
): Promise<SsoConnection> {
  const at = now()
  const row: SsoConnection = {
    id: generateId(),
    organizationId,
    protocol: 'saml',
    displayName: 'Globex SAML',
    status: 'enabled',
    ...NO_OIDC_SETTINGS,
    samlNameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    samlEmailAttribute: null,
    samlNameAttribute: null,
    samlGroupsAttribute: null,
    samlAmrAttribute: null,
    samlWantAssertionsSigned: true,
    samlWantAuthnResponseSigned: true,
    samlIsIdpInitiatedAllowed: false,
    groupRoleMap: {},
    defaultRole: 'member',
    mfaAmrValues: [],
    mfaAcrValues: [],
    lastTestResult: null,
    lastTestedAt: null,
    createdAt: at,
    updatedAt: at,
    ...settings,
  }
  await db.insert(ssoConnections).values(row)
  return row
}
