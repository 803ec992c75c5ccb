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
}

export const DEMO_ORGANIZATIONS: DemoOrganization[] = [
  { slug: 'initech', name: 'Initech', signInMethod: 'password' },
  { slug: 'acme', name: 'Acme Corp', signInMethod: 'oidc' },
  { slug: 'globex', name: 'Globex', signInMethod: 'saml' },
]

export const DEMO_ACCOUNTS: DemoAccount[] = [
  { email: 'owner@initech.test', name: 'Olivia Owner', password: 'demo-owner-password', role: 'owner', organizationSlug: 'initech', signInMethod: 'password' },
  { email: 'admin@initech.test', name: 'Adam Admin', password: 'demo-admin-password', role: 'admin', organizationSlug: 'initech', signInMethod: 'password' },
  { email: 'member@initech.test', name: 'Mia Member', password: 'demo-member-password', role: 'member', organizationSlug: 'initech', signInMethod: 'password' },
]
