/**
 * The admin console's boundary: an org admin acts only inside their own organization (BOLA,
 * OWASP API1), members are refused, and the role is read from the database on every call, so a
 * demotion applies to the very next request of a session that already exists.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { Organization, User } from '../../db/schema'
import { callerWithToken, countRows, createTestOrganization, createTestUser, signedInCaller, sql } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

let orgA: Organization
let orgB: Organization
let adminA: User
let memberA: User
let adminB: User
let memberB: User

beforeAll(async () => {
  orgA = await createTestOrganization({ name: 'Org A' })
  orgB = await createTestOrganization({ name: 'Org B' })
  adminA = (await createTestUser({ role: 'admin', organizationId: orgA.id, email: 'admin@a.example.test' })).user
  memberA = (await createTestUser({ role: 'member', organizationId: orgA.id, email: 'member@a.example.test' })).user
  adminB = (await createTestUser({ role: 'admin', organizationId: orgB.id, email: 'admin@b.example.test' })).user
  memberB = (await createTestUser({ role: 'member', organizationId: orgB.id, email: 'member@b.example.test' })).user
})

async function sessionIdsOf(userId: string): Promise<string[]> {
  return (await sql('SELECT id FROM sessions WHERE user_id = ? ORDER BY id', [userId])).map((row) => String(row.id))
}

describe('admin.users.list', () => {
  it("an admin of org A sees org A's users and nobody from org B", async () => {
    const { caller } = await signedInCaller(adminA)
    const list = await caller.admin.users.list()
    expect(list.map((user) => user.email)).toEqual(['admin@a.example.test', 'member@a.example.test'])
    expect(list[0]).toEqual({
      id: adminA.id,
      email: adminA.email,
      name: adminA.name,
      role: 'admin',
      isDisabled: false,
      isMfaEnabled: false,
      signInMethods: ['password'],
      lastSsoSignInAt: null,
      createdAt: expect.any(String),
    })
    // No hash (or anything derived from one) in the listing: only whether a password exists.
    expect(JSON.stringify(list)).not.toMatch(/passwordHash|password_hash|\$argon2/)
  })

  it('a member is refused with FORBIDDEN', async () => {
    const { caller } = await signedInCaller(memberA)
    await expectAppError(caller.admin.users.list(), 'FORBIDDEN')
  })

  it('an admin without an organization sees nobody', async () => {
    const { user: loneAdmin } = await createTestUser({ role: 'admin', organizationId: null })
    const { caller } = await signedInCaller(loneAdmin)
    expect(await caller.admin.users.list()).toEqual([])
    await expectAppError(caller.admin.users.revokeSessions({ userId: memberA.id }), 'NOT_FOUND')
  })
})

describe('admin.users.revokeSessions', () => {
  it("revoking the sessions of org B's user from org A answers NOT_FOUND and revokes nothing", async () => {
    const victim = await signedInCaller(memberB)
    const victimAdmin = await signedInCaller(adminB)
    const { caller } = await signedInCaller(adminA)
    const before = await countRows()

    await expectAppError(caller.admin.users.revokeSessions({ userId: memberB.id }), 'NOT_FOUND')
    await expectAppError(caller.admin.users.revokeSessions({ userId: adminB.id }), 'NOT_FOUND')

    expect(await countRows()).toEqual(before)
    expect(await sessionIdsOf(memberB.id)).toContain(victim.sessionId)
    expect(await sessionIdsOf(adminB.id)).toContain(victimAdmin.sessionId)
    expect(await callerWithToken(victim.token).caller.auth.me()).toMatchObject({ user: { id: memberB.id } })
  })

  it('a member cannot revoke anybody (FORBIDDEN, nothing written)', async () => {
    const target = await signedInCaller(adminA)
    const { caller } = await signedInCaller(memberA)
    const before = await countRows()
    await expectAppError(caller.admin.users.revokeSessions({ userId: adminA.id }), 'FORBIDDEN')
    expect(await countRows()).toEqual(before)
    expect(await sessionIdsOf(adminA.id)).toContain(target.sessionId)
  })

  it("an admin revokes every session of a member of their own org, effective on the member's next request", async () => {
    await sql('DELETE FROM sessions WHERE user_id = ?', [memberA.id])
    const phone = await signedInCaller(memberA)
    const laptop = await signedInCaller(memberA)
    const { caller } = await signedInCaller(adminA)

    await expect(caller.admin.users.revokeSessions({ userId: memberA.id })).resolves.toEqual({ revoked: 2 })

    expect(await sessionIdsOf(memberA.id)).toEqual([])
    await expectAppError(phone.caller.sessions.list(), 'UNAUTHENTICATED')
    await expectAppError(laptop.caller.sessions.list(), 'UNAUTHENTICATED')
    const [event] = await sql("SELECT actor_user_id AS actor, organization_id AS org FROM audit_events WHERE type = 'session.revoked_all' AND subject_user_id = ?", [memberA.id])
    expect(event).toMatchObject({ actor: adminA.id, org: orgA.id })
  })

  it("an admin revoking their own sessions keeps the one they are using", async () => {
    const other = await signedInCaller(adminA)
    const current = await signedInCaller(adminA)
    await current.caller.admin.users.revokeSessions({ userId: adminA.id })
    await expectAppError(other.caller.sessions.list(), 'UNAUTHENTICATED')
    expect(await current.caller.auth.me()).toMatchObject({ user: { id: adminA.id } })
  })
})

describe('roles are read from the database on every request', () => {
  it('a demotion applies on the very next call of an existing session', async () => {
    const { user } = await createTestUser({ role: 'admin', organizationId: orgA.id })
    const { caller } = await signedInCaller(user)
    await expect(caller.admin.users.list()).resolves.toBeInstanceOf(Array)

    await sql("UPDATE users SET role = 'member' WHERE id = ?", [user.id])

    await expectAppError(caller.admin.users.list(), 'FORBIDDEN')
    expect(await caller.auth.me()).toMatchObject({ user: { role: 'member' } })
  })

  it('a promotion applies on the very next call too', async () => {
    const { user } = await createTestUser({ role: 'member', organizationId: orgA.id })
    const { caller } = await signedInCaller(user)
    await expectAppError(caller.admin.users.list(), 'FORBIDDEN')
    await sql("UPDATE users SET role = 'owner' WHERE id = ?", [user.id])
    await expect(caller.admin.users.list()).resolves.toBeInstanceOf(Array)
  })

  it('a role that is not in app.config (a stale or tampered value) grants nothing', async () => {
    const { user } = await createTestUser({ role: 'admin', organizationId: orgA.id })
    const { caller } = await signedInCaller(user)
    await sql("UPDATE users SET role = 'superadmin' WHERE id = ?", [user.id])
    await expectAppError(caller.admin.users.list(), 'FORBIDDEN')
  })

  it('moving a user to another organization moves what their admin session can see', async () => {
    const { user } = await createTestUser({ role: 'admin', organizationId: orgA.id })
    const { caller } = await signedInCaller(user)
    await sql('UPDATE users SET organization_id = ? WHERE id = ?', [orgB.id, user.id])
    const emails = (await caller.admin.users.list()).map((row) => row.email)
    expect(emails).toContain('member@b.example.test')
    expect(emails).not.toContain('member@a.example.test')
  })
})
