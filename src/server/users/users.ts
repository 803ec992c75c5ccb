/** Server-only: creating and finding users and organizations (no authentication logic here). */
import { eq } from 'drizzle-orm'
import appConfig from '../../../app.config'
import type { Role } from '../../lib/roles'
import { organizations, users, type Organization, type User } from '../../../db/schema'
import type { Database } from '../db/client'
import { generateId } from '../ids'
import { normalizeEmail } from './email'

export { isRole, type Role } from '../../lib/roles'

/** Creates an organization; the slug is unique (a duplicate throws the database's error). */
export async function createOrganization(db: Database, input: { name: string; slug: string }): Promise<Organization> {
  const organization: Organization = {
    id: generateId(),
    name: input.name,
    slug: input.slug,
    mfaPolicy: 'optional',
    mfaRequiredMinRole: null,
    ssoEnforcedAt: null,
    breakGlassUserId: null,
    ssoMfaMode: appConfig.sso.defaultMfaMode,
    createdAt: new Date(),
  }
  await db.insert(organizations).values(organization)
  return organization
}

/** The organization with this slug, or null. */
export async function getOrganizationBySlug(db: Database, slug: string): Promise<Organization | null> {
  const [row] = await db.select().from(organizations).where(eq(organizations.slug, slug)).limit(1)
  return row ?? null
}

/** Inserts a user with an already-hashed password (or none, for SSO-only accounts). */
export async function createUser(
  db: Database,
  input: { email: string; name: string; passwordHash: string | null; role: Role; organizationId: string | null; emailVerifiedAt?: Date | null },
): Promise<User> {
  const now = new Date()
  const user: User = {
    id: generateId(),
    organizationId: input.organizationId,
    email: normalizeEmail(input.email),
    emailVerifiedAt: input.emailVerifiedAt ?? null,
    name: input.name,
    passwordHash: input.passwordHash,
    role: input.role,
    disabledAt: null,
    mfaEnabledAt: null,
    createdAt: now,
    updatedAt: now,
  }
  await db.insert(users).values(user)
  return user
}

/** The user with this email (normalised here too), or null. */
export async function getUserByEmail(db: Database, email: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.email, normalizeEmail(email))).limit(1)
  return row ?? null
}

/** True when the error is MySQL's duplicate-key error (ER_DUP_ENTRY, 1062) on any unique index. */
export function isDuplicateKeyError(error: unknown): boolean {
  const cause = (error as { cause?: { errno?: number } })?.cause ?? error
  return (cause as { errno?: number })?.errno === 1062
}
