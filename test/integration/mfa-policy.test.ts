/**
 * Organization MFA policy (optional / required / required for a role and above), the forced
 * enrollment it causes, organization.getMfaPolicy / setMfaPolicy, and admin.users.resetMfa.
 */
import { afterEach, describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { advanceClockForTests, resetClockForTests } from '../../src/server/clock'
import { callerWithResponse } from '../support/caller'
import {
  callerWithToken,
  createTestOrganization,
  createTestUser,
  nextTestIp,
  readUser,
  requireIssuedToken,
  signedInCaller,
  sql,
} from '../support/auth-fixtures'
import { createMfaTestUser, currentTotpCode, nextTotpCode } from '../support/mfa-fixtures'
import { expectAppError, expectValidationError } from '../support/trpc-errors'

afterEach(() => {
  resetClockForTests()
})

const REAUTH_WINDOW_MS = appConfig.session.reauthWindowSeconds * 1000

async function signIn(email: string, password: string) {
  const { caller, responseHeaders } = callerWithResponse({ ip: nextTestIp() })
  const result = await caller.auth.signIn({ email, password })
  const token = requireIssuedToken(responseHeaders)
  return { result, token, ...callerWithToken(token) }
}

async function organizationRow(organizationId: string) {
  const [row] = await sql('SELECT mfa_policy AS policy, mfa_required_min_role AS minRole FROM organizations WHERE id = ?', [organizationId])
  return row
}

async function auditEventsOfOrganization(organizationId: string) {
  const rows = await sql('SELECT type, actor_user_id AS actorUserId, subject_user_id AS subjectUserId, details FROM audit_events WHERE organization_id = ? ORDER BY id', [organizationId])
  return rows.map((row) => ({
    type: row.type as string,
    actorUserId: row.actorUserId as string | null,
    subjectUserId: row.subjectUserId as string | null,
    details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details,
  }))
}

describe("policy 'required'", () => {
  it('a user without a factor is walked through enrollment and reaches nothing else until done', async () => {
    const organization = await createTestOrganization({ mfaPolicy: 'required' })
    const { user, password } = await createTestUser({ organizationId: organization.id })
    const { result, caller, responseHeaders } = await signIn(user.email, password)
    expect(result).toEqual({ status: 'mfa-enrollment-required' })
    expect(await caller.auth.me()).toMatchObject({ status: 'mfa-enrollment-required', user: { id: user.id, isMfaEnabled: false } })

    for (const call of [() => caller.sessions.list(), () => caller.account.changePassword({ currentPassword: password, newPassword: 'x'.repeat(20) }), () => caller.auth.reauthenticate({ password }), () => caller.mfa.regenerateRecoveryCodes(), () => caller.mfa.disable({ currentPassword: password })]) {
      await expectAppError(call(), 'MFA_ENROLLMENT_REQUIRED')
    }
    // The challenge is not for this state either.
    await expectAppError(caller.mfa.verify({ code: '123456' }), 'FORBIDDEN')

    // Enrollment works, even once the sign-in is older than the re-auth window (this session cannot re-authenticate).
    advanceClockForTests(REAUTH_WINDOW_MS + 1_000)
    expect(await caller.mfa.status()).toMatchObject({ isEnabled: false })
    const { secret } = await caller.mfa.beginEnrollment()
    const { recoveryCodes } = await caller.mfa.confirmEnrollment({ code: currentTotpCode(secret) })
    expect(recoveryCodes).toHaveLength(10)

    const signedIn = callerWithToken(requireIssuedToken(responseHeaders)).caller
    expect(await signedIn.auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: true } })
    expect(await signedIn.sessions.list()).toHaveLength(1)

    // The next sign-in asks for a code.
    const next = await signIn(user.email, password)
    expect(next.result).toEqual({ status: 'mfa-required' })
    expect(await next.caller.mfa.verify({ code: nextTotpCode(secret) })).toEqual({ status: 'signed-in' })
  })

  it('applies to live sessions on their next request when an admin turns it on', async () => {
    const organization = await createTestOrganization()
    const { user } = await createTestUser({ organizationId: organization.id })
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    expect(await caller.sessions.list()).toHaveLength(1)
    await sql("UPDATE organizations SET mfa_policy = 'required' WHERE id = ?", [organization.id])
    await expectAppError(caller.sessions.list(), 'MFA_ENROLLMENT_REQUIRED')
  })

  it('a user who already has a factor is asked for a code, as under any policy', async () => {
    const organization = await createTestOrganization({ mfaPolicy: 'required' })
    const { user, password } = await createMfaTestUser({ organizationId: organization.id })
    expect((await signIn(user.email, password)).result).toEqual({ status: 'mfa-required' })
  })
})

describe("policy 'required_for_role'", () => {
  it('with minRole admin: members are unaffected, admins and owners are forced to enroll', async () => {
    const organization = await createTestOrganization({ mfaPolicy: 'required_for_role', mfaRequiredMinRole: 'admin' })
    const statuses: Record<string, string> = {}
    for (const role of ['member', 'admin', 'owner'] as const) {
      const { user, password } = await createTestUser({ organizationId: organization.id, role })
      statuses[role] = (await signIn(user.email, password)).result.status
    }
    expect(statuses).toEqual({ member: 'signed-in', admin: 'mfa-enrollment-required', owner: 'mfa-enrollment-required' })
  })

  it('a promotion into the required range forces enrollment on the next request', async () => {
    const organization = await createTestOrganization({ mfaPolicy: 'required_for_role', mfaRequiredMinRole: 'admin' })
    const { user } = await createTestUser({ organizationId: organization.id, role: 'member' })
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await caller.sessions.list()
    await sql("UPDATE users SET role = 'admin' WHERE id = ?", [user.id])
    await expectAppError(caller.sessions.list(), 'MFA_ENROLLMENT_REQUIRED')
  })
})

describe('organization.getMfaPolicy / setMfaPolicy', () => {
  async function adminOf(organizationId: string, options: { hasMfa?: boolean } = {}) {
    const created = options.hasMfa ? await createMfaTestUser({ organizationId, role: 'admin' }) : { ...(await createTestUser({ organizationId, role: 'admin' })), secret: null }
    return { ...created, ...(await signedInCaller(created.user, { ip: nextTestIp(), isMfaSatisfied: options.hasMfa })) }
  }

  it('an admin reads and changes their own organization’s policy; the change is audited', async () => {
    const organization = await createTestOrganization()
    const bystander = await createTestOrganization()
    const admin = await adminOf(organization.id, { hasMfa: true })

    expect(await admin.caller.organization.getMfaPolicy()).toEqual({ policy: 'optional', minRole: null })
    expect(await admin.caller.organization.setMfaPolicy({ policy: 'required_for_role', minRole: 'admin' })).toEqual({ policy: 'required_for_role', minRole: 'admin' })
    expect(await admin.caller.organization.getMfaPolicy()).toEqual({ policy: 'required_for_role', minRole: 'admin' })
    expect(await organizationRow(bystander.id)).toEqual({ policy: 'optional', minRole: null })

    // minRole only means something for required_for_role.
    expect(await admin.caller.organization.setMfaPolicy({ policy: 'required', minRole: 'owner' })).toEqual({ policy: 'required', minRole: null })
    expect(await organizationRow(organization.id)).toEqual({ policy: 'required', minRole: null })

    const events = (await auditEventsOfOrganization(organization.id)).filter((event) => event.type === 'organization.mfa_policy_changed')
    expect(events.map((event) => event.details)).toEqual([
      { previous: { policy: 'optional', minRole: null }, policy: 'required_for_role', minRole: 'admin' },
      { previous: { policy: 'required_for_role', minRole: 'admin' }, policy: 'required', minRole: null },
    ])
    expect(events[0]!.actorUserId).toBe(admin.user.id)
  })

  it('a member cannot read or change the policy (FORBIDDEN)', async () => {
    const organization = await createTestOrganization()
    const { user } = await createTestUser({ organizationId: organization.id, role: 'member' })
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await expectAppError(caller.organization.getMfaPolicy(), 'FORBIDDEN')
    await expectAppError(caller.organization.setMfaPolicy({ policy: 'optional' }), 'FORBIDDEN')
    expect(await organizationRow(organization.id)).toEqual({ policy: 'optional', minRole: null })
  })

  it('changing the policy needs a recent re-authentication', async () => {
    const organization = await createTestOrganization()
    const admin = await adminOf(organization.id, { hasMfa: true })
    advanceClockForTests(REAUTH_WINDOW_MS + 1_000)
    await expectAppError(admin.caller.organization.setMfaPolicy({ policy: 'required' }), 'REAUTH_REQUIRED')
    expect(await organizationRow(organization.id)).toEqual({ policy: 'optional', minRole: null })
    await admin.caller.auth.reauthenticate({ code: nextTotpCode(admin.secret!) })
    await admin.caller.organization.setMfaPolicy({ policy: 'required' })
    expect(await organizationRow(organization.id)).toEqual({ policy: 'required', minRole: null })
  })

  it('an admin without MFA cannot require it of themselves (would strand them in forced enrollment)', async () => {
    const organization = await createTestOrganization()
    const admin = await adminOf(organization.id)
    const refused = await expectAppError(admin.caller.organization.setMfaPolicy({ policy: 'required' }), 'FORBIDDEN')
    expect(refused.message).toMatch(/your own account/)
    // Requiring it only of owners does not touch this admin.
    await admin.caller.organization.setMfaPolicy({ policy: 'required_for_role', minRole: 'owner' })
    expect(await organizationRow(organization.id)).toEqual({ policy: 'required_for_role', minRole: 'owner' })
  })

  it('invalid input is refused before anything is written', async () => {
    const organization = await createTestOrganization()
    const admin = await adminOf(organization.id, { hasMfa: true })
    for (const input of [{ policy: 'required_for_role' }, { policy: 'always' }, { policy: 'required_for_role', minRole: 'superuser' }, { policy: 'optional', organizationId: 'x' }]) {
      await expectValidationError(admin.caller.organization.setMfaPolicy(input as never))
    }
    expect(await organizationRow(organization.id)).toEqual({ policy: 'optional', minRole: null })
  })

  it('an admin without an organization gets NOT_FOUND', async () => {
    const { user } = await createTestUser({ role: 'admin' })
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    await expectAppError(caller.organization.getMfaPolicy(), 'NOT_FOUND')
    await expectAppError(caller.organization.setMfaPolicy({ policy: 'optional' }), 'NOT_FOUND')
  })
})

describe('admin.users.resetMfa', () => {
  async function setUp(policy: 'optional' | 'required' = 'optional') {
    const organization = await createTestOrganization({ mfaPolicy: policy })
    const admin = await createMfaTestUser({ organizationId: organization.id, role: 'admin' })
    const adminSession = await signedInCaller(admin.user, { ip: nextTestIp(), isMfaSatisfied: true })
    const target = await createMfaTestUser({ organizationId: organization.id, role: 'member' })
    const targetSessions = [await signedInCaller(target.user, { ip: nextTestIp(), isMfaSatisfied: true }), await signedInCaller(target.user, { ip: nextTestIp() })]
    return { organization, admin: { ...admin, ...adminSession }, target, targetSessions }
  }

  it('removes the member’s factor, revokes all their sessions, is audited; their next sign-in is password-only', async () => {
    const { organization, admin, target, targetSessions } = await setUp()
    expect(await admin.caller.admin.users.resetMfa({ userId: target.user.id })).toEqual({ wasEnabled: true, sessionsRevoked: 2 })
    expect((await readUser(target.user.id))!.mfaEnabledAt).toBeNull()
    for (const session of targetSessions) expect(await session.caller.auth.me()).toBeNull()
    expect(await admin.caller.auth.me()).toMatchObject({ status: 'signed-in' })
    const events = await auditEventsOfOrganization(organization.id)
    expect(events.at(-1)).toMatchObject({ type: 'mfa.reset_by_admin', actorUserId: admin.user.id, subjectUserId: target.user.id, details: { sessionsRevoked: 2 } })
    expect((await signIn(target.user.email, target.password)).result).toEqual({ status: 'signed-in' })
  })

  it('under a required policy the member is sent to enrollment after the reset', async () => {
    const { admin, target } = await setUp('required')
    await admin.caller.admin.users.resetMfa({ userId: target.user.id })
    expect((await signIn(target.user.email, target.password)).result).toEqual({ status: 'mfa-enrollment-required' })
  })

  it("an admin of another organization gets NOT_FOUND and nothing changes (BOLA)", async () => {
    const { target, targetSessions } = await setUp()
    const otherOrganization = await createTestOrganization()
    const outsider = await createMfaTestUser({ organizationId: otherOrganization.id, role: 'owner' })
    const { caller } = await signedInCaller(outsider.user, { ip: nextTestIp(), isMfaSatisfied: true })
    await expectAppError(caller.admin.users.resetMfa({ userId: target.user.id }), 'NOT_FOUND')
    expect((await readUser(target.user.id))!.mfaEnabledAt).not.toBeNull()
    for (const session of targetSessions) expect(await session.caller.auth.me()).not.toBeNull()
  })

  it('needs a recent re-authentication', async () => {
    const { admin, target } = await setUp()
    advanceClockForTests(REAUTH_WINDOW_MS + 1_000)
    await expectAppError(admin.caller.admin.users.resetMfa({ userId: target.user.id }), 'REAUTH_REQUIRED')
    expect((await readUser(target.user.id))!.mfaEnabledAt).not.toBeNull()
    await admin.caller.auth.reauthenticate({ code: nextTotpCode(admin.secret) })
    expect(await admin.caller.admin.users.resetMfa({ userId: target.user.id })).toMatchObject({ wasEnabled: true })
  })

  it('members cannot reset anyone; an admin cannot reset an owner or themselves', async () => {
    const { organization, admin, target } = await setUp()
    const { caller: memberCaller } = await signedInCaller(target.user, { ip: nextTestIp(), isMfaSatisfied: true })
    await expectAppError(memberCaller.admin.users.resetMfa({ userId: admin.user.id }), 'FORBIDDEN')

    const owner = await createMfaTestUser({ organizationId: organization.id, role: 'owner' })
    await expectAppError(admin.caller.admin.users.resetMfa({ userId: owner.user.id }), 'FORBIDDEN')
    await expectAppError(admin.caller.admin.users.resetMfa({ userId: admin.user.id }), 'FORBIDDEN')
    expect((await readUser(owner.user.id))!.mfaEnabledAt).not.toBeNull()
    expect((await readUser(admin.user.id))!.mfaEnabledAt).not.toBeNull()

    // The owner may reset the admin.
    const { caller: ownerCaller } = await signedInCaller(owner.user, { ip: nextTestIp(), isMfaSatisfied: true })
    expect(await ownerCaller.admin.users.resetMfa({ userId: admin.user.id })).toMatchObject({ wasEnabled: true })
  })

  it('a user without MFA: nothing to reset, their sessions are left alone', async () => {
    const { organization, admin } = await setUp()
    const { user } = await createTestUser({ organizationId: organization.id })
    const session = await signedInCaller(user, { ip: nextTestIp() })
    expect(await admin.caller.admin.users.resetMfa({ userId: user.id })).toEqual({ wasEnabled: false, sessionsRevoked: 0 })
    expect(await session.caller.auth.me()).not.toBeNull()
  })

  it('malformed ids are refused by validation', async () => {
    const { admin } = await setUp()
    await expectValidationError(admin.caller.admin.users.resetMfa({ userId: 'not an id' }))
  })
})
