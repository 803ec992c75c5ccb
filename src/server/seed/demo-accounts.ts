/**
 * DEVELOPMENT ONLY: the demo organizations and accounts `npm run dev` seeds. These passwords are
 * public by design (the dev login page lists them) and are never seeded in production: the seed
 * refuses to run when NODE_ENV=production.
 */
export type DemoOrganization = { slug: string; name: string; signInMethod: 'password' | 'oidc' | 'saml' }

export type DemoAccount = {
  email: string
  name: string
  /** Dev-only, deliberately published. */
  password: string
  role: 'member' | 'admin' | 'owner'
  organizationSlug: string
  signInMethod: 'password' | 'oidc' | 'saml'
  /** SSO accounts: the groups the local IdP asserts (the connection maps them to `role`). */
  idpGroups?: string[]
}

/**
 * Acme signs in through the local OIDC provider `npm run dev` starts (scripts/idp): its domain
 * `acme.test` is verified and routed to this connection. Group `acme-admins` maps to admin;
 * everyone else gets the default role. The accounts below exist only at the IdP until their first
 * sign-in provisions them (their `password` is the IdP password).
 */
export const DEMO_ACME_OIDC = {
  organizationSlug: 'acme',
  domain: 'acme.test',
  connectionName: 'Acme IdP (local)',
  clientId: 'gatehouse-dev',
  groupRoleMap: { 'acme-admins': 'admin' } as Record<string, string>,
  defaultRole: 'member',
} as const

/**
 * Globex signs in through the local SAML IdP `npm run dev` starts (scripts/idp/saml-idp.ts): its
 * domain `globex.test` is verified and routed to a SAML connection imported from the IdP's metadata
 * URL. Group `globex-admins` maps to admin; everyone else gets the default role. The accounts exist
 * only at the IdP until their first sign-in provisions them (`password` is the IdP password).
 */
export const DEMO_GLOBEX_SAML = {
  organizationSlug: 'globex',
  domain: 'globex.test',
  connectionName: 'Globex IdP (local SAML)',
  groupRoleMap: { 'globex-admins': 'admin' } as Record<string, string>,
  defaultRole: 'member',
} as const

export const DEMO_ORGANIZATIONS: DemoOrganization[] = [
  { slug: 'initech', name: 'Initech', signInMethod: 'password' },
  { slug: 'acme', name: 'Acme Corp', signInMethod: 'oidc' },
  { slug: 'globex', name: 'Globex', signInMethod: 'saml' },
]

export const DEMO_ACCOUNTS: DemoAccount[] = [
  { email: 'owner@initech.test', name: 'Olivia Owner', password: 'demo-owner-password', role: 'owner', organizationSlug: 'initech', signInMethod: 'password' },
  { email: 'admin@initech.test', name: 'Adam Admin', password: 'demo-admin-password', role: 'admin', organizationSlug: 'initech', signInMethod: 'password' },
  { email: 'member@initech.test', name: 'Mia Member', password: 'demo-member-password', role: 'member', organizationSlug: 'initech', signInMethod: 'password' },
  { email: 'alice@acme.test', name: 'Alice Acme', password: 'demo-acme-admin-idp', role: 'admin', organizationSlug: 'acme', signInMethod: 'oidc', idpGroups: ['acme-admins', 'acme-staff'] },
  { email: 'bob@acme.test', name: 'Bob Acme', password: 'demo-acme-member-idp', role: 'member', organizationSlug: 'acme', signInMethod: 'oidc', idpGroups: ['acme-staff'] },
  { email: 'grace@globex.test', name: 'Grace Globex', password: 'demo-globex-admin-idp', role: 'admin', organizationSlug: 'globex', signInMethod: 'saml', idpGroups: ['globex-admins', 'globex-staff'] },
  { email: 'hank@globex.test', name: 'Hank Globex', password: 'demo-globex-member-idp', role: 'member', organizationSlug: 'globex', signInMethod: 'saml', idpGroups: ['globex-staff'] },
]
