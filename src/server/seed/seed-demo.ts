/**
 * Server-only, DEVELOPMENT ONLY: seeds the demo data idempotently (existing rows are left alone),
 * so `npm run dev` can run it on every start.
 */
import { hashPassword } from '../auth/password'
import type { Database } from '../db/client'
import { createOrganization, createUser, getOrganizationBySlug, getUserByEmail } from '../users/users'
import { DEMO_ACCOUNTS, DEMO_ORGANIZATIONS } from './demo-accounts'

/** Creates whatever demo organizations and users are missing; returns how many rows it added. */
export async function seedDemo(db: Database): Promise<{ organizations: number; users: number }> {
  if (process.env.NODE_ENV === 'production') throw new Error('the demo seed never runs in production')
  let addedOrganizations = 0
  let addedUsers = 0
  const organizationIds = new Map<string, string>()
  for (const demo of DEMO_ORGANIZATIONS) {
    const existing = await getOrganizationBySlug(db, demo.slug)
    const organization = existing ?? (await createOrganization(db, { name: demo.name, slug: demo.slug }))
    if (!existing) addedOrganizations++
    organizationIds.set(demo.slug, organization.id)
  }
  for (const account of DEMO_ACCOUNTS) {
    if (await getUserByEmail(db, account.email)) continue
    await createUser(db, {
      email: account.email,
      name: account.name,
      passwordHash: await hashPassword(account.password),
      role: account.role,
      organizationId: organizationIds.get(account.organizationSlug) ?? null,
      emailVerifiedAt: new Date(),
    })
    addedUsers++
  }
  return { organizations: addedOrganizations, users: addedUsers }
}
