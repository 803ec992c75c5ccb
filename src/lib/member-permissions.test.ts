import { describe, expect, it } from 'vitest'
import { canActOnMember, getAssignableRoles, getMemberActionRefusal, getRoleChangeRefusal, type MemberAction } from './member-permissions'

const owner = { id: 'owner', role: 'owner' }
const admin = { id: 'admin', role: 'admin' }
const otherAdmin = { id: 'admin-2', role: 'admin' }
const member = { id: 'member', role: 'member' }
const ACTIONS: MemberAction[] = ['revokeSessions', 'resetMfa', 'setRole', 'setDisabled']

describe('member permissions (vertical privilege escalation)', () => {
  it('lets an admin act on members and admins of the same rank, never on an owner', () => {
    for (const action of ACTIONS) {
      expect(canActOnMember(admin, member, action)).toBe(true)
      expect(canActOnMember(admin, otherAdmin, action)).toBe(true)
      expect(getMemberActionRefusal(admin, owner, action)?.reason).toBe('higher_role')
    }
  })

  it('refuses every action on oneself except revoking one’s own other sessions', () => {
    expect(canActOnMember(admin, admin, 'revokeSessions')).toBe(true)
    for (const action of ['resetMfa', 'setRole', 'setDisabled'] as const) expect(getMemberActionRefusal(admin, admin, action)?.reason).toBe('self')
  })

  it('never lets a role be granted above the actor’s own', () => {
    expect(getAssignableRoles('admin')).toEqual(['member', 'admin'])
    expect(getAssignableRoles('owner')).toEqual(['member', 'admin', 'owner'])
    expect(getRoleChangeRefusal(admin, member, 'owner')?.reason).toBe('higher_role')
    expect(getRoleChangeRefusal(admin, member, 'admin')).toBeNull()
    expect(getRoleChangeRefusal(owner, member, 'owner')).toBeNull()
  })

  it('ranks an unknown role below every real one, so a corrupt row is never above anyone', () => {
    expect(canActOnMember(member, { id: 'x', role: 'superuser' }, 'setDisabled')).toBe(true)
    expect(canActOnMember({ id: 'x', role: 'superuser' }, member, 'setDisabled')).toBe(false)
  })
})
