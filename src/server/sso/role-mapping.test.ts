/** Group → role mapping (SPEC §6): highest mapped role, default otherwise, break-glass never demoted. */
import { describe, expect, it } from 'vitest'
import { decideSsoRole, mapGroupsToRole, readGroupsClaim } from './role-mapping'

const mapping = { groupRoleMap: { admins: 'admin', owners: 'owner', staff: 'member' }, defaultRole: 'member' }

describe('mapGroupsToRole', () => {
  it('picks the highest mapped role, else the default', () => {
    expect(mapGroupsToRole(['staff', 'admins'], mapping)).toBe('admin')
    expect(mapGroupsToRole(['owners', 'admins'], mapping)).toBe('owner')
    expect(mapGroupsToRole(['unknown'], mapping)).toBe('member')
    expect(mapGroupsToRole([], { ...mapping, defaultRole: 'admin' })).toBe('admin')
  })

  it('matches group names exactly and ignores prototype keys', () => {
    expect(mapGroupsToRole(['Admins', 'constructor', '__proto__'], mapping)).toBe('member')
  })

  it('reads a groups claim of any shape as strings', () => {
    expect(readGroupsClaim(['a', 1, null, 'b'])).toEqual(['a', 'b'])
    expect(readGroupsClaim('a')).toEqual(['a'])
    expect(readGroupsClaim({ a: 1 })).toEqual([])
  })
})

describe('decideSsoRole', () => {
  it('re-evaluates at each sign-in, promoting and demoting', () => {
    expect(decideSsoRole({ groups: ['admins'], mapping, currentRole: 'member', isBreakGlassUser: false })).toEqual({ role: 'admin', isChanged: true })
    expect(decideSsoRole({ groups: [], mapping, currentRole: 'admin', isBreakGlassUser: false })).toEqual({ role: 'member', isChanged: true })
    expect(decideSsoRole({ groups: ['staff'], mapping, currentRole: 'member', isBreakGlassUser: false })).toEqual({ role: 'member', isChanged: false })
  })

  it('never demotes the break-glass owner', () => {
    expect(decideSsoRole({ groups: [], mapping, currentRole: 'owner', isBreakGlassUser: true })).toEqual({ role: 'owner', isChanged: false })
  })
})
