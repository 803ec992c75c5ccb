/**
 * Server-only, pure: the role an SSO sign-in gives a user (SPEC §6). The highest role any asserted
 * group maps to, else the connection's default role; re-evaluated at every SSO sign-in. A mapping
 * never demotes the organization's break-glass owner (who must stay able to fix a broken IdP).
 */
import { isRole, roleRank, type Role } from '../../lib/roles'

/** The highest mapped role among `groups`, or the default role (group names match exactly). */
export function mapGroupsToRole(groups: readonly string[], mapping: { groupRoleMap: Record<string, string>; defaultRole: string }): Role {
  let best: Role | null = null
  for (const group of groups) {
    const role = Object.hasOwn(mapping.groupRoleMap, group) ? mapping.groupRoleMap[group] : undefined
    if (role !== undefined && isRole(role) && (best === null || roleRank(role) > roleRank(best))) best = role
  }
  if (best) return best
  if (!isRole(mapping.defaultRole)) throw new Error(`connection default role "${mapping.defaultRole}" is not a configured role`)
  return mapping.defaultRole
}

/** The asserted groups as strings (an IdP may send a string, an array, or junk). */
export function readGroupsClaim(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((group): group is string => typeof group === 'string') : []
}

/**
 * The role to store after an SSO sign-in: the mapped role, except that the break-glass user is
 * never moved to a lower role than the one they hold.
 */
export function decideSsoRole(input: {
  groups: readonly string[]
  mapping: { groupRoleMap: Record<string, string>; defaultRole: string }
  currentRole: string | null
  isBreakGlassUser: boolean
}): { role: Role; isChanged: boolean } {
  const mapped = mapGroupsToRole(input.groups, input.mapping)
  if (input.isBreakGlassUser && input.currentRole && isRole(input.currentRole) && roleRank(mapped) < roleRank(input.currentRole)) {
    return { role: input.currentRole, isChanged: false }
  }
  return { role: mapped, isChanged: input.currentRole !== mapped }
}
