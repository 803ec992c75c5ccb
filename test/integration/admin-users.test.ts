/**
 * Role changes and disabling users from the admin console: inside the admin's own organization
 * only, never upwards (vertical privilege escalation), never on oneself, and effective on the
 * member's very next request.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { Organization, User } from '../../db/schema'
import { createTestOrganization, createTestUser, readUser, signedInCaller, sql, TEST_PASSWORD } from '../support/auth-fixtures'
import { callerFor } from '../support/caller'
import { expectAppError } from '../support/trpc-errors'

let orgA: Organization
let orgB: Organization
let ownerA: User
let adminA: User
let memberB: User

beforeAll(async () => {
  orgA = await createTestOrganization({ name: 'Roles A' })
  orgB = await createTestOrganization({ name: 'Roles B' })
  ownerA = (await createTestUser({ role: 'owner', organizationId: orgA.id })).user
  adminA = (await createTestUser({ role: 'admin', organizationId: orgA.id })).user
  memberB = (await createTestUser({ role: 'member', organizationId: orgB.id })).user
})

async function auditTypesFor(userId: string): Promise<string[]> {
  return (await sql('SELECT type FROM audit_events WHERE subject_user_id = ? ORDER BY id', [userId])).map((row) => String(row.type))
}

describe('admin.users.setRole', () => {
  it('promotes a member up to the admin’s own role, audited, and the member’s live session sees it on its next call', async () => {
    const { user: member } = await createTestUser({ role: 'member', organizationId: orgA.id })
    const memberSession = await signedInCaller(member)
    await expectAppError(memberSession.caller.admin.users.list(), 'FORBIDDEN')

    const { caller } = await signedInCaller(adminA)
    expect(await caller.admin.users.setRole({ userId: member.id, role: 'admin' })).toEqual({ role: 'admin' })
    expect((await readUser(member.id))!.role).toBe('admin')
    expect(await memberSession.caller.admin.users.list()).toEqual(expect.arrayContaining([expect.objectContaining({ id: member.id, role: 'admin' })]))
    expect(await auditTypesFor(member.id)).toContain('user.role_changed')
  })

  it('an admin cannot grant a role above their own (privilege escalation) and nothing changes', async () => {
    const { user: member } = await createTestUser({ role: 'member', organizationId: orgA.id })
    const { caller } = await signedInCaller(adminA)
    await expectAppError(caller.admin.users.setRole({ userId: member.id, role: 'owner' }), 'FORBIDDEN')
    expect((await readUser(member.id))!.role).toBe('member')
  })

  it('an admin cannot demote an owner, and nobody changes their own role', async () => {
    const { caller } = await signedInCaller(adminA)
    await expectAppError(caller.admin.users.setRole({ userId: ownerA.id, role: 'member' }), 'FORBIDDEN')
    await expectAppError(caller.admin.users.setRole({ userId: adminA.id, role: 'owner' }), 'FORBIDDEN')
    const owner = await signedInCaller(ownerA)
    await expectAppError(owner.caller.admin.users.setRole({ userId: ownerA.id, role: 'member' }), 'FORBIDDEN')
    expect([(await readUser(ownerA.id))!.role, (await readUser(adminA.id))!.role]).toEqual(['owner', 'admin'])
  })

  it('a user of another organization is NOT_FOUND (BOLA) and keeps their role', async () => {
    const { caller } = await signedInCaller(ownerA)
    await expectAppError(caller.admin.users.setRole({ userId: memberB.id, role: 'admin' }), 'NOT_FOUND')
    expect((await readUser(memberB.id))!.role).toBe('member')
  })

  it('a role outside app.config.ts is refused by input validation', async () => {
    const { caller } = await signedInCaller(ownerA)
    await expect(caller.admin.users.setRole({ userId: adminA.id, role: 'root' as 'member' })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })
})

describe('admin.users.setDisabled', () => {
  it('disabling revokes every session at once and refuses sign-in (ACCOUNT_DISABLED to the password holder); enabling restores sign-in', async () => {
    const { user: member, password } = await createTestUser({ role: 'member', organizationId: orgA.id, password: TEST_PASSWORD })
    const live = await signedInCaller(member)
    const { caller } = await signedInCaller(adminA)

    expect(await caller.admin.users.setDisabled({ userId: member.id, isDisabled: true })).toEqual({ isDisabled: true, sessionsRevoked: 1 })
    expect(await live.caller.auth.me()).toBeNull()
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [member.id])).toHaveLength(0)
    await expectAppError(callerFor().auth.signIn({ email: member.email, password }), 'ACCOUNT_DISABLED')

    expect(await caller.admin.users.setDisabled({ userId: member.id, isDisabled: false })).toEqual({ isDisabled: false, sessionsRevoked: 0 })
    await expect(callerFor().auth.signIn({ email: member.email, password })).resolves.toEqual({ status: 'signed-in' })
    expect(await auditTypesFor(member.id)).toEqual(expect.arrayContaining(['user.disabled', 'user.enabled']))
  })

  it('an admin cannot disable an owner or themselves, nor anyone in another organization', async () => {
    const { caller } = await signedInCaller(adminA)
    await expectAppError(caller.admin.users.setDisabled({ userId: ownerA.id, isDisabled: true }), 'FORBIDDEN')
    await expectAppError(caller.admin.users.setDisabled({ userId: adminA.id, isDisabled: true }), 'FORBIDDEN')
    await expectAppError(caller.admin.users.setDisabled({ userId: memberB.id, isDisabled: true }), 'NOT_FOUND')
    const disabled = await sql('SELECT id FROM users WHERE disabled_at IS NOT NULL AND id IN (?, ?, ?)', [ownerA.id, adminA.id, memberB.id])
    expect(disabled).toHaveLength(0)
  })
})
