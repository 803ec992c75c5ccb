/**
 * Client-safe: who may act on which member of their organization. The admin router enforces these
 * rules and the console asks the same functions, so it never offers a control the server refuses
 * (vertical privilege escalation: no one acts on, or grants, a role above their own).
 *
 * The server applies them twice: in the guard, and again under the organization lock on the actor
 * and member as they are at that moment, where it also keeps the organization's last enabled owner
 * (`src/server/users/member-changes.ts`, ADR 017) — a rule the console need not ask, since these
 * rules already keep anyone but that owner themselves from reaching them.
 */
import appConfig from '../../app.config'
import { isRole, roleRank, type Role } from './roles'

/** The actions an admin takes on a member from the console. */
export type MemberAction = 'revokeSessions' | 'resetMfa' | 'setRole' | 'setDisabled'

type Person = { id: string; role: string }

/** Why an action is refused, as the person sees it (also the FORBIDDEN message the server sends). */
export type MemberActionRefusal = { reason: 'self' | 'higher_role'; message: string }

const SELF_MESSAGES: Record<Exclude<MemberAction, 'revokeSessions'>, string> = {
  resetMfa: 'Change your own two-factor authentication in your security settings.',
  setRole: 'You cannot change your own role.',
  setDisabled: 'You cannot disable your own account.',
}

const HIGHER_ROLE_MESSAGES: Record<MemberAction, string> = {
  revokeSessions: "Only someone with the same or a higher role can revoke this user's sessions.",
  resetMfa: "Only someone with the same or a higher role can reset this user's two-factor authentication.",
  setRole: 'You can only assign roles up to your own.',
  setDisabled: 'Only someone with the same or a higher role can do this.',
}

/**
 * Null when `actor` may take `action` on `member`, else why not. Revoking one's own sessions is
 * allowed (the caller's current session is kept); every other action on oneself goes through the
 * account's own settings, where the organization's policy applies.
 */
export function getMemberActionRefusal(actor: Person, member: Person, action: MemberAction): MemberActionRefusal | null {
  if (action !== 'revokeSessions' && actor.id === member.id) return { reason: 'self', message: SELF_MESSAGES[action] }
  if (roleRank(member.role) > roleRank(actor.role)) return { reason: 'higher_role', message: HIGHER_ROLE_MESSAGES[action] }
  return null
}

/** True when `actor` may take `action` on `member`. */
export function canActOnMember(actor: Person, member: Person, action: MemberAction): boolean {
  return getMemberActionRefusal(actor, member, action) === null
}

/** The roles `actorRole` may hand out: every role up to its own. */
export function getAssignableRoles(actorRole: string): Role[] {
  return appConfig.roles.filter((role) => roleRank(role) <= roleRank(actorRole))
}

/** Null when `actor` may give `member` the role `role`, else why not. */
export function getRoleChangeRefusal(actor: Person, member: Person, role: string): MemberActionRefusal | null {
  const refusal = getMemberActionRefusal(actor, member, 'setRole')
  if (refusal) return refusal
  if (roleRank(role) > roleRank(actor.role)) return { reason: 'higher_role', message: HIGHER_ROLE_MESSAGES.setRole }
  return null
}

type SsoRoleMapping = { groupRoleMap: Record<string, string>; defaultRole: string }

/**
 * The highest role an SSO connection can give: its default role or any group's. It is the
 * connection's authority: whoever controls the IdP a connection trusts can sign in as any account
 * it reaches, so the connection signs in no account above its ceiling (src/server/sso/sso-sign-in.ts)
 * and only someone of at least that role may change it — else an admin could point an owner's
 * connection at an IdP of their own and sign in as the owner (vertical escalation, ASVS 5.0 V8.2.2).
 */
export function getSsoConnectionRoleCeiling(mapping: SsoRoleMapping): Role {
  return [mapping.defaultRole, ...Object.values(mapping.groupRoleMap)].reduce<Role>(
    (highest, role) => (isRole(role) && roleRank(role) > roleRank(highest) ? role : highest),
    appConfig.roles[0],
  )
}

/** Null when `actorRole` may change the connection (settings, certificates, status, deletion), else why not. */
export function getSsoConnectionChangeRefusal(actorRole: string, mapping: SsoRoleMapping): string | null {
  if (roleRank(getSsoConnectionRoleCeiling(mapping)) <= roleRank(actorRole)) return null
  return 'This connection can sign in people with a role above yours, so only they can change it.'
}
