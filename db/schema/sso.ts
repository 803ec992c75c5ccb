import { boolean, index, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core'
import { caseSensitiveVarchar, idColumn, timestamp } from './columns'
import { organizations } from './organizations'
import { sessions } from './sessions'
import { users } from './users'

/** How a domain was proven: a TXT record found by `gatehouse` itself, or an operator's word (CLI). */
export type DomainVerificationMethod = 'dns' | 'operator'

/** The outcome of the latest DNS check of a domain claim (shown to the admin and audited). */
export type DomainCheckResult = 'verified' | 'no_record' | 'wrong_value' | 'dns_error' | 'claimed_elsewhere'

export type SsoProtocol = 'oidc' | 'saml'

/** `draft` until first enabled; afterwards `enabled` ↔ `disabled`. */
export type SsoConnectionStatus = 'draft' | 'enabled' | 'disabled'

/** RFC 6749 §2.3.1 client authentication at the token endpoint. */
export type OidcTokenAuthMethod = 'client_secret_basic' | 'client_secret_post'

/** Why an SSO flow row exists: a sign-in, a step-up of an existing session, or the admin's test login. */
export type SsoFlowPurpose = 'sign_in' | 'reauth' | 'test'

/** What the latest test login ("doctor") saw; non-secret by construction (no tokens, no raw responses). */
export type SsoConnectionTestResult = {
  isSuccessful: boolean
  /** Each check by name (`discovery`, `iss`, `signature`, `nonce`, …) and whether it passed. */
  checks: Array<{ name: string; isPassed: boolean; reason?: string }>
  /** Claims as decoded after validation (email, name, groups, amr, acr, …). */
  claims?: Record<string, unknown>
}

/** SAML 2.0 NameID formats a connection may ask for (SAML Core §8.3). `persistent` is recommended. */
export type SamlNameIdFormat =
  | 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'
  | 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
  | 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'
  | 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'

/**
 * What the SAML ACS (step 1) validated, kept on the flow row until the completion (step 2) signs
 * the user in. JSON-safe: times are ISO strings. No raw XML, no signature material.
 */
export type SsoFlowValidatedResult = {
  claims: {
    subject: string
    email: string | null
    isEmailVerifiedByIdp: boolean
    name: string | null
    groups: string[]
    amr: unknown
    acr: unknown
    /** ISO 8601; `AuthnStatement@AuthnInstant`. */
    authTime: string | null
  }
  /** The NameID format the IdP asserted (not the one asked for). */
  nameIdFormat: string | null
  /** The attribute names the IdP released (no values), shown by the connection doctor. */
  attributeNames?: string[]
  /** Doctor flows only: the listed IdP certificate that verified the signatures (null: none alone did). */
  signingCertificate?: { fingerprintSha256: string; subject: string } | null
  assertionId: string
  /** IdP-initiated (no `InResponseTo`); only possible when the connection allows it. */
  isIdpInitiated: boolean
}

/**
 * A domain an organization claims. Claims are per organization and stay pending until proven;
 * `verified_domain` is the claim's domain copied in only on verification. MySQL has no partial
 * unique index, but a unique index ignores NULLs, so "verified for at most one organization" is
 * the database's promise while any number of pending claims on the same domain can coexist.
 * A verification covers exactly this domain: `acme.com` does not cover `eu.acme.com`.
 */
export const organizationDomains = mysqlTable(
  'organization_domains',
  {
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** Lower-case ASCII (IDNs as punycode), no trailing dot. */
    domain: varchar('domain', { length: 253 }).notNull(),
    /** ≥ 160 random bits, published in DNS (so not a secret), compared byte-for-byte. */
    verificationToken: caseSensitiveVarchar('verification_token', 64).notNull(),
    verifiedAt: timestamp('verified_at'),
    verifiedBy: varchar('verified_by', { length: 16 }).$type<DomainVerificationMethod>(),
    /** Equal to `domain` while verified, NULL otherwise (see the table comment). */
    verifiedDomain: varchar('verified_domain', { length: 253 }),
    /** The connection email discovery sends this domain's users to; only meaningful while verified. */
    ssoConnectionId: idColumn('sso_connection_id').references(() => ssoConnections.id, { onDelete: 'set null' }),
    lastCheckedAt: timestamp('last_checked_at'),
    lastCheckResult: varchar('last_check_result', { length: 24 }).$type<DomainCheckResult>(),
    createdAt: timestamp('created_at').notNull(),
  },
  (table) => [
    // One claim per organization and domain; the admin console lists an org's domains by this prefix.
    uniqueIndex('organization_domains_org_domain_unique').on(table.organizationId, table.domain),
    // Email discovery and "verified for at most one organization" (NULLs do not collide).
    uniqueIndex('organization_domains_verified_domain_unique').on(table.verifiedDomain),
    // Removing a connection un-routes its domains (the FK's SET NULL uses it).
    index('organization_domains_connection_idx').on(table.ssoConnectionId),
  ],
)

/**
 * An organization's connection to its identity provider. The client secret is write-only: sealed
 * with the secret box (purpose `sso-client-secret`, the connection id as associated data) and never
 * selected into anything that leaves the server. `updated_at` changes on every edit and versions
 * the per-instance discovery cache.
 */
export const ssoConnections = mysqlTable(
  'sso_connections',
  {
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    protocol: varchar('protocol', { length: 8 }).$type<SsoProtocol>().notNull(),
    displayName: varchar('display_name', { length: 120 }).notNull(),
    status: varchar('status', { length: 16 }).$type<SsoConnectionStatus>().notNull().default('draft'),
    // OIDC settings (NULL for SAML connections).
    oidcIssuer: varchar('oidc_issuer', { length: 512 }),
    oidcClientId: caseSensitiveVarchar('oidc_client_id', 255),
    oidcScopes: varchar('oidc_scopes', { length: 255 }),
    oidcTokenAuthMethod: varchar('oidc_token_auth_method', { length: 32 }).$type<OidcTokenAuthMethod>(),
    oidcEmailClaim: varchar('oidc_email_claim', { length: 64 }),
    oidcNameClaim: varchar('oidc_name_claim', { length: 64 }),
    oidcGroupsClaim: varchar('oidc_groups_claim', { length: 64 }),
    /** Secret-box ciphertext of the client secret, and the id of the key that sealed it. */
    oidcClientSecretSealed: caseSensitiveVarchar('oidc_client_secret_sealed', 1024),
    oidcClientSecretKeyId: caseSensitiveVarchar('oidc_client_secret_key_id', 16),
    // SAML settings (NULL for OIDC connections; ADR 015).
    /** The IdP's entity ID: the expected `Issuer` of responses and assertions (compared byte-for-byte). */
    samlIdpEntityId: caseSensitiveVarchar('saml_idp_entity_id', 512),
    /** The IdP's SingleSignOnService location for the HTTP-Redirect binding. */
    samlIdpSsoUrl: varchar('saml_idp_sso_url', { length: 2048 }),
    /** Every accepted signing certificate (PEM), so the IdP can rotate: node-saml's `idpCert` array. */
    samlIdpCertificates: json('saml_idp_certificates').$type<string[]>(),
    samlNameIdFormat: varchar('saml_name_id_format', { length: 128 }).$type<SamlNameIdFormat>(),
    /** Attribute names to read; NULL: the defaults of `saml-attributes.ts`. */
    samlEmailAttribute: varchar('saml_email_attribute', { length: 255 }),
    samlNameAttribute: varchar('saml_name_attribute', { length: 255 }),
    samlGroupsAttribute: varchar('saml_groups_attribute', { length: 255 }),
    /** An `amr`-style attribute some IdPs send (none by default); its values join `idp_authn_context`. */
    samlAmrAttribute: varchar('saml_amr_attribute', { length: 255 }),
    /** Never both false (signature-stripping); both true by default. */
    samlWantAssertionsSigned: boolean('saml_want_assertions_signed').notNull().default(true),
    samlWantAuthnResponseSigned: boolean('saml_want_authn_response_signed').notNull().default(true),
    /** Unsolicited responses (no `InResponseTo`): no browser binding, so login CSRF; off by default. */
    samlIsIdpInitiatedAllowed: boolean('saml_is_idp_initiated_allowed').notNull().default(false),
    /** IdP group name → Gatehouse role; the highest mapped role wins. */
    groupRoleMap: json('group_role_map').$type<Record<string, string>>().notNull(),
    /** Role when no group maps (JIT provisioning and re-evaluation at each sign-in). */
    defaultRole: varchar('default_role', { length: 32 }).notNull(),
    /** `amr` values (RFC 8176) that count as MFA under `trust_idp_mfa`; empty: none counts. */
    mfaAmrValues: json('mfa_amr_values').$type<string[]>().notNull(),
    /** `acr` values (OIDC) or SAML `AuthnContextClassRef`s that count as MFA; empty: none counts. */
    mfaAcrValues: json('mfa_acr_values').$type<string[]>().notNull(),
    lastTestResult: json('last_test_result').$type<SsoConnectionTestResult>(),
    lastTestedAt: timestamp('last_tested_at'),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (table) => [
    // The console lists an organization's connections.
    index('sso_connections_organization_idx').on(table.organizationId),
  ],
)

/**
 * A user's identity at one connection, keyed by the IdP's subject. The key never includes the
 * email: an email change at the IdP must not move the identity to another account.
 */
export const ssoIdentities = mysqlTable(
  'sso_identities',
  {
    id: idColumn('id').primaryKey(),
    connectionId: idColumn('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    /** OIDC `sub` / SAML NameID: opaque, case-sensitive, ≤ 255 ASCII characters (OIDC Core §2). */
    subject: caseSensitiveVarchar('subject', 255).notNull(),
    userId: idColumn('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
    lastSignInAt: timestamp('last_sign_in_at'),
  },
  (table) => [
    // The callback's look-up; also "one identity per subject per connection".
    uniqueIndex('sso_identities_connection_subject_unique').on(table.connectionId, table.subject),
    // A user's linked identities (console, account deletion).
    index('sso_identities_user_idx').on(table.userId),
  ],
)

/**
 * Short-lived, single-use state of one SSO login (ADR 014). Looked up by the SHA-256 of `state`,
 * consumed by a conditional `UPDATE … WHERE consumed_at IS NULL` so exactly one callback wins on
 * any instance, and tied to the browser that started it by the hash of a binding cookie.
 */
export const ssoLoginFlows = mysqlTable(
  'sso_login_flows',
  {
    id: idColumn('id').primaryKey(),
    /** Hex SHA-256 of the `state` sent to the IdP (the raw value lives only in the redirect). */
    stateHash: caseSensitiveVarchar('state_hash', 64).notNull(),
    /** OIDC nonce / SAML request id, as sent: it travels in the clear through the browser anyway. */
    nonce: caseSensitiveVarchar('nonce', 128).notNull(),
    /** PKCE verifier sealed with the secret box (purpose `sso-login-flow`, the flow id as associated data). */
    pkceVerifierSealed: caseSensitiveVarchar('pkce_verifier_sealed', 255),
    pkceVerifierKeyId: caseSensitiveVarchar('pkce_verifier_key_id', 16),
    connectionId: idColumn('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    purpose: varchar('purpose', { length: 16 }).$type<SsoFlowPurpose>().notNull(),
    /** Already sanitised by `getSafeRedirect` when the flow was created; the callback trusts only this. */
    redirectTo: varchar('redirect_to', { length: 2048 }).notNull(),
    /** For `reauth` and `test`: who asked, from which session (the callback requires both unchanged). */
    requestingUserId: idColumn('requesting_user_id').references(() => users.id, { onDelete: 'cascade' }),
    requestingSessionId: idColumn('requesting_session_id').references(() => sessions.id, { onDelete: 'cascade' }),
    /** Hex SHA-256 of the binding cookie's value set in the browser that started the flow. */
    browserBindingHash: caseSensitiveVarchar('browser_binding_hash', 64).notNull(),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    consumedAt: timestamp('consumed_at'),
    /**
     * SAML: set once the IdP's response to this request arrived (node-saml's cacheProvider claims the
     * request id atomically; `removeAsync` sets it too). The row stays: the completion needs it.
     */
    answeredAt: timestamp('answered_at'),
    /** SAML: hex SHA-256 of the one-time ticket the ACS hands to the completion GET (ADR 015). */
    completionTicketHash: caseSensitiveVarchar('completion_ticket_hash', 64),
    /** SAML: the validated result between the ACS (step 1) and the completion (step 2). */
    validatedResult: json('validated_result').$type<SsoFlowValidatedResult>(),
  },
  (table) => [
    // The callback finds its flow by the state's hash; unique so a collision cannot pick another's row.
    uniqueIndex('sso_login_flows_state_hash_unique').on(table.stateHash),
    // SAML's cacheProvider looks a request id up within its connection (IdP A cannot answer B's request).
    uniqueIndex('sso_login_flows_connection_nonce_unique').on(table.connectionId, table.nonce),
    // The completion GET finds its flow by the ticket's hash (NULLs, i.e. OIDC flows, never collide).
    uniqueIndex('sso_login_flows_completion_ticket_unique').on(table.completionTicketHash),
    // The scheduled purge deletes by expiry.
    index('sso_login_flows_expires_idx').on(table.expiresAt),
  ],
)

/**
 * SAML assertion IDs already accepted, per connection: the replay store (ADR 015). The unique
 * index makes a second POST of the same response fail on every instance, even concurrently. Rows
 * live until the assertion's NotOnOrAfter plus the clock skew, then the scheduled purge drops them.
 */
export const ssoConsumedAssertions = mysqlTable(
  'sso_consumed_assertions',
  {
    id: idColumn('id').primaryKey(),
    connectionId: idColumn('connection_id')
      .notNull()
      .references(() => ssoConnections.id, { onDelete: 'cascade' }),
    /** The Assertion's `ID` (xs:ID), compared byte-for-byte. */
    assertionId: caseSensitiveVarchar('assertion_id', 255).notNull(),
    consumedAt: timestamp('consumed_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (table) => [
    // The replay check itself: the INSERT fails on a duplicate.
    uniqueIndex('sso_consumed_assertions_connection_assertion_unique').on(table.connectionId, table.assertionId),
    // The scheduled purge deletes by expiry.
    index('sso_consumed_assertions_expires_idx').on(table.expiresAt),
  ],
)

export type OrganizationDomain = typeof organizationDomains.$inferSelect
export type SsoConnection = typeof ssoConnections.$inferSelect
export type SsoIdentity = typeof ssoIdentities.$inferSelect
export type SsoLoginFlow = typeof ssoLoginFlows.$inferSelect
export type SsoConsumedAssertion = typeof ssoConsumedAssertions.$inferSelect
