/**
 * Server-only: a node-saml `SAML` instance for one connection and one request (issue 10, item 2;
 * ADR 015). Building one is cheap, so nothing is cached and a settings change applies at once.
 * Every option node-saml 5.1.0 gets wrong by default for this app is set explicitly:
 *
 * - `validateInResponseTo: 'always'` (default `'never'` lets replays and unsolicited responses in)
 *   with the flow-table `cacheProvider`, keyed by connection and claimed atomically.
 *   IdP-initiated validation (`'never'`) exists only when the connection allows it and the response
 *   carries no `InResponseTo`: the caller decides that, not the response.
 * - `audience` is the SP entity ID, never `false`.
 * - `acceptedClockSkewMs` / `maxAssertionAgeMs` from app.config.ts (defaults 0 and "unbounded").
 * - Both `wantAssertionsSigned` and `wantAuthnResponseSigned` from the connection, never both false.
 * - `disableRequestedAuthnContext: true` (otherwise `PasswordProtectedTransport`/`exact`, which an
 *   IdP that used MFA may refuse or misreport), `signatureAlgorithm: 'sha256'` (default sha1).
 *
 * What node-saml does not check (Issuer, Destination, Recipient, SHA-1, replays) is the ACS's job:
 * `saml-preparse.ts`, `readSamlAssertionFacts`, `recordConsumedSamlAssertion`.
 */
import { randomBytes } from 'node:crypto'
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml'
import appConfig from '../../../../app.config'
import type { SsoConnectionView } from '../connections'
import { SAML_NAMEID_FORMATS } from './saml-attributes'
import { getSamlServiceProviderUrls } from './saml-metadata'

/** The connection columns a SAML instance is built from. */
export type SamlConnectionSettings = Pick<
  SsoConnectionView,
  | 'id'
  | 'protocol'
  | 'samlIdpEntityId'
  | 'samlIdpSsoUrl'
  | 'samlIdpCertificates'
  | 'samlNameIdFormat'
  | 'samlWantAssertionsSigned'
  | 'samlWantAuthnResponseSigned'
  | 'samlIsIdpInitiatedAllowed'
>

export class SamlConfigurationError extends Error {
  override name = 'SamlConfigurationError'
}

/** An AuthnRequest ID: an xs:ID (NCName, so never starting with a digit) with 160 random bits, as node-saml makes them. */
export function generateSamlRequestId(): string {
  return `_${randomBytes(20).toString('hex')}`
}

export type BuildSamlOptions = {
  appUrl: URL | string
  /** The flow-table cache of this connection (`createSamlRequestCache`). */
  cacheProvider: CacheProvider
  /**
   * Starting a login: the request ID already stored as the flow's `nonce` (node-saml's
   * `saveAsync` then finds the flow). Validating: leave unset.
   */
  requestId?: string
  /** Step-up: ask the IdP to authenticate again (the ACS still checks `AuthnInstant`). */
  isForceAuthn?: boolean
  /**
   * Validating an unsolicited response: only when the connection allows IdP-initiated login AND
   * the response has no `InResponseTo` (the caller checks the second). Throws otherwise.
   */
  isIdpInitiated?: boolean
}

/** Builds node-saml for this connection and request; throws `SamlConfigurationError` on incomplete or unsafe settings. */
export function buildSaml(connection: SamlConnectionSettings, options: BuildSamlOptions): SAML {
  if (connection.protocol !== 'saml') throw new SamlConfigurationError('not a SAML connection')
  const { samlIdpEntityId, samlIdpSsoUrl, samlIdpCertificates } = connection
  if (!samlIdpEntityId || !samlIdpSsoUrl || !samlIdpCertificates?.length) {
    throw new SamlConfigurationError('the SAML connection lacks the IdP entity ID, SSO URL or signing certificates')
  }
  // Both false would accept a response whose signature was simply removed.
  if (!connection.samlWantAssertionsSigned && !connection.samlWantAuthnResponseSigned) {
    throw new SamlConfigurationError('a SAML connection must require a signed response, a signed assertion, or both')
  }
  if (options.isIdpInitiated && !connection.samlIsIdpInitiatedAllowed) throw new SamlConfigurationError('IdP-initiated login is off for this connection')
  const requestId = options.requestId
  const urls = getSamlServiceProviderUrls(options.appUrl, connection.id)
  return new SAML({
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    audience: urls.entityId,
    entryPoint: samlIdpSsoUrl,
    idpCert: samlIdpCertificates,
    identifierFormat: connection.samlNameIdFormat ?? SAML_NAMEID_FORMATS.persistent,
    wantAssertionsSigned: connection.samlWantAssertionsSigned,
    wantAuthnResponseSigned: connection.samlWantAuthnResponseSigned,
    validateInResponseTo: options.isIdpInitiated ? ValidateInResponseTo.never : ValidateInResponseTo.always,
    cacheProvider: options.cacheProvider,
    requestIdExpirationPeriodMs: appConfig.sso.flowLifetimeSeconds * 1000,
    acceptedClockSkewMs: appConfig.sso.samlAcceptedClockSkewMs,
    maxAssertionAgeMs: appConfig.sso.samlMaxAssertionAgeMs,
    disableRequestedAuthnContext: true,
    forceAuthn: options.isForceAuthn === true,
    signatureAlgorithm: 'sha256',
    authnRequestBinding: 'HTTP-Redirect',
    // node-saml's default generator would make an id no flow row knows; building without one is a bug.
    generateUniqueId: () => {
      if (!requestId) throw new SamlConfigurationError('an AuthnRequest needs the flow\'s request id (BuildSamlOptions.requestId)')
      return requestId
    },
  })
}
