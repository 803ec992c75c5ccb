/**
 * The seeded demo accounts, for the development login page (SPEC §8). A server function so the
 * list never ships in a bundle: the handler body (and its dynamic imports of server modules) runs
 * only on the server, and it answers with an empty list outside development.
 */
import { createServerFn } from '@tanstack/react-start'

export type DemoAccountSummary = {
  email: string
  password: string
  name: string
  role: string
  organizationName: string
  signInMethod: 'password' | 'oidc' | 'saml'
}

/** The demo accounts in development; `[]` in production and tests. */
export const getDemoAccounts = createServerFn({ method: 'GET' }).handler(async (): Promise<DemoAccountSummary[]> => {
  const { getServerEnv } = await import('../server/env')
  if (getServerEnv().mode !== 'development') return []
  const { DEMO_ACCOUNTS, DEMO_ORGANIZATIONS } = await import('../server/seed/demo-accounts')
  return DEMO_ACCOUNTS.map((account) => ({
    email: account.email,
    password: account.password,
    name: account.name,
    role: account.role,
    organizationName: DEMO_ORGANIZATIONS.find((organization) => organization.slug === account.organizationSlug)?.name ?? account.organizationSlug,
    signInMethod: account.signInMethod,
  }))
})
