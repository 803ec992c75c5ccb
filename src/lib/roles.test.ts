import { describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { isRole, roleRank, satisfiesRole } from './roles'

describe('roles from app.config.ts', () => {
  it('rank follows the configured order', () => {
    expect(appConfig.roles).toEqual(['member', 'admin', 'owner'])
    expect(roleRank('member')).toBeLessThan(roleRank('admin'))
    expect(roleRank('admin')).toBeLessThan(roleRank('owner'))
  })

  it('a single role means "at least this role"', () => {
    expect(satisfiesRole('owner', 'admin')).toBe(true)
    expect(satisfiesRole('admin', 'admin')).toBe(true)
    expect(satisfiesRole('member', 'admin')).toBe(false)
    expect(satisfiesRole('member', 'member')).toBe(true)
  })

  it('a list means "one of these", with no ordering implied', () => {
    expect(satisfiesRole('admin', ['admin'])).toBe(true)
    expect(satisfiesRole('owner', ['admin'])).toBe(false)
    expect(satisfiesRole('member', ['member', 'owner'])).toBe(true)
    expect(satisfiesRole('admin', [])).toBe(false)
  })

  it('an unknown role (stale data, a typo, a tampered row) satisfies nothing', () => {
    for (const role of ['', 'superadmin', 'Admin', 'OWNER', ' owner', 'member ']) {
      expect(isRole(role), role).toBe(false)
      expect(satisfiesRole(role, 'member'), role).toBe(false)
      expect(satisfiesRole(role, ['member', 'admin', 'owner']), role).toBe(false)
    }
    expect(roleRank('superadmin')).toBe(-1)
  })
})
