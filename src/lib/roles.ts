/**
 * Client-safe: role order from `app.config.ts`. Used by server guards and by `useCan()` alike,
 * so the UI hides exactly what the server would refuse.
 */
import appConfig from '../../app.config'

export type Role = (typeof appConfig.roles)[number]

/** A role requirement: one role means "at least this role"; a list means "one of these". */
export type RoleRequirement = Role | readonly Role[]

/** Position of a role in the configured order (unknown roles rank below every real one). */
export function roleRank(role: string): number {
  return (appConfig.roles as readonly string[]).indexOf(role)
}

/** True when `role` is one of the configured roles. */
export function isRole(value: string): value is Role {
  return roleRank(value) >= 0
}

/** True when `role` satisfies the requirement. */
export function satisfiesRole(role: string, requirement: RoleRequirement): boolean {
  if (!isRole(role)) return false
  if (typeof requirement === 'string') return roleRank(role) >= roleRank(requirement)
  return requirement.includes(role)
}
