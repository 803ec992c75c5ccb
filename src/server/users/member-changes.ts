/**
 * Server-only: an admin (or the operator) changing a member of an organization — role, disabled
 * state, second factor, sessions. The console's router and the CLI call these; neither writes a
 * member's role or disabled state itself.
 *
 * The invariant: an organization that has an enabled owner keeps one. Sequentially the member
 * rules already guarantee it (nobody acts on themselves, only an owner acts on an owner), but those
 * rules were checked against the role the session had when the request started: two owners who
 * demote or disable each other at the same time both pass, and the organization is left with no
 * owner (recovery then needs the operator's CLI). So every change here runs inside
 * `inOrganizationTransaction` (the organization row locked first), re-reads the actor and the
 * member as they are now, re-applies the member rules, and refuses a change after which no enabled
 * owner would remain (LAST_OWNER). Nothing is written on a refusal.
 *
 * Effects that touch other tables (revoking sessions, audit, mail) belong to the caller, after the
 * commit: revoking sessions inside the transaction would wait on a concurrent session rotation that
 * itself waits on the member's locked row (a deadlock), and the audit chain must not be appended to
 * from inside a transaction (`audit-log.ts`).
 */
import { and, eq, inArray, isNull, ne } from 'drizzle-orm'
import { users, type Organization, type User } from '../../../db/schema'
import { getMemberActionRefusal, getRoleChangeRefusal, type MemberAction, type MemberActionRefusal } from '../../lib/member-permissions'
import { satisfiesRole, type Role } from '../../lib/roles'
import { disableTotp } from '../auth/mfa'
import type { Database } from '../db/client'
import { appError } from '../errors'
import { refuseIfBreakGlassOwner } from '../sso/sso-policy'
import { inOrganizationTransaction, type Transaction } from './organization-lock'

/** Who asks: a member of the organization acting from a session (re-checked here), or the operator at the CLI. */
export type MemberChangeActor = { kind: 'member'; userId: string } | { kind: 'operator' }

type MemberChangeTarget = { organizationId: string; memberId: string; actor: MemberChangeActor; now: Date }

/** The member as they were before the change (for the audit's `from`, the notification's address) and whether anything changed. */
export type MemberChangeOutcome = { member: User; isChanged: boolean }

/** Throws FORBIDDEN with the policy's own sentence when the rule says no. */
function enforceMemberPolicy(refusal: MemberActionRefusal | null): void {
  if (refusal) throw appError('FORBIDDEN', refusal.message)
}

/** The locked member and (for a member actor) the locked actor, re-read now; NOT_FOUND outside the organization (no existence oracle). */
async function lockActorAndMember(tx: Transaction, organizationId: string, memberId: string, actor: MemberChangeActor): Promise<{ member: User; actingUser: User | null }> {
  const ids = actor.kind === 'member' ? [...new Set([actor.userId, memberId])] : [memberId]
  // One statement, so the rows are locked in primary-key order whatever the request's order.
  const rows = await tx
    .select()
    .from(users)
    .where(and(inArray(users.id, ids), eq(users.organizationId, organizationId)))
    .for('update')
  const member = rows.find((row) => row.id === memberId)
  if (!member) throw appError('NOT_FOUND')
  if (actor.kind === 'operator') return { member, actingUser: null }
  const actingUser = rows.find((row) => row.id === actor.userId)
  // The guard admitted the session before this transaction began; what counts is the actor now.
  // Disabled meanwhile: their sessions are being revoked.
  if (!actingUser || actingUser.disabledAt) throw appError('UNAUTHENTICATED')
  if (!satisfiesRole(actingUser.role, 'admin')) throw appError('FORBIDDEN', 'Your role has changed: you can no longer manage members. Reload the page.')
  return { member, actingUser }
}

/**
 * Refuses when `member` is an enabled owner and no other enabled owner would remain. The other
 * owners' rows are locked too, so a writer that does not take the organization lock (an IdP's role
 * mapping at sign-in) cannot remove one of them between this count and the commit.
 */
async function refuseIfLastEnabledOwner(tx: Transaction, organizationId: string, member: User): Promise<void> {
  if (member.role !== 'owner' || member.disabledAt) return
  const otherOwners = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.organizationId, organizationId), eq(users.role, 'owner'), isNull(users.disabledAt), ne(users.id, member.id)))
    .for('update')
  if (otherOwners.length === 0) throw appError('LAST_OWNER')
}

/**
 * Runs `work` with the organization locked and the actor and member re-read, after the member
 * rules for `action` (skipped for the operator, who is not a member).
 */
async function inMemberChange<T>(
  db: Database,
  target: MemberChangeTarget,
  action: MemberAction,
  work: (tx: Transaction, locked: { organization: Organization; member: User; actingUser: User | null }) => Promise<T>,
): Promise<T> {
  return inOrganizationTransaction(db, target.organizationId, async (tx, organization) => {
    const { member, actingUser } = await lockActorAndMember(tx, target.organizationId, target.memberId, target.actor)
    if (actingUser) enforceMemberPolicy(getMemberActionRefusal(actingUser, member, action))
    return work(tx, { organization, member, actingUser })
  })
}

/**
 * Gives a member a new role. No one changes their own role, touches someone above them or grants
 * more than they hold (vertical privilege escalation); the break-glass owner keeps theirs while SSO
 * is mandatory; the last enabled owner stays an owner.
 */
export async function setMemberRole(db: Database, target: MemberChangeTarget, role: Role): Promise<MemberChangeOutcome> {
  return inMemberChange(db, target, 'setRole', async (tx, { organization, member, actingUser }) => {
    if (actingUser) enforceMemberPolicy(getRoleChangeRefusal(actingUser, member, role))
    if (member.role === role) return { member, isChanged: false }
    if (role !== 'owner') {
      refuseIfBreakGlassOwner(organization, member.id)
      await refuseIfLastEnabledOwner(tx, organization.id, member)
    }
    await tx.update(users).set({ role, updatedAt: target.now }).where(eq(users.id, member.id))
    return { member, isChanged: true }
  })
}

/**
 * Disables or re-enables a member. Disabling the break-glass owner (while SSO is mandatory) or the
 * last enabled owner is refused. The caller revokes the member's sessions after the commit (a
 * disabled user's sessions already fail validation from the commit on).
 */
export async function setMemberDisabled(db: Database, target: MemberChangeTarget, isDisabled: boolean): Promise<MemberChangeOutcome> {
  return inMemberChange(db, target, 'setDisabled', async (tx, { organization, member }) => {
    if (isDisabled) refuseIfBreakGlassOwner(organization, member.id)
    if ((member.disabledAt !== null) === isDisabled) return { member, isChanged: false }
    if (isDisabled) await refuseIfLastEnabledOwner(tx, organization.id, member)
    await tx.update(users).set({ disabledAt: isDisabled ? target.now : null, updatedAt: target.now }).where(eq(users.id, member.id))
    return { member, isChanged: true }
  })
}

/**
 * Deletes a member's TOTP factor and recovery codes (the lost-phone path); `isChanged` is false
 * when they had none. Never the break-glass owner's while SSO is mandatory. The caller revokes the
 * member's sessions after the commit.
 */
export async function resetMemberMfa(db: Database, target: MemberChangeTarget): Promise<MemberChangeOutcome> {
  return inMemberChange(db, target, 'resetMfa', async (tx, { organization, member }) => {
    refuseIfBreakGlassOwner(organization, member.id)
    // A savepoint inside this transaction; it locks the member's row, which this one already holds.
    const wasEnabled = await disableTotp(tx, member.id, target.now)
    return { member, isChanged: wasEnabled }
  })
}

/**
 * Checks that the actor may still revoke the member's sessions (an admin demoted a moment ago may
 * not sign an owner out); the caller revokes them. The member as they are now.
 */
export async function authorizeMemberSessionRevocation(db: Database, target: MemberChangeTarget): Promise<User> {
  return inMemberChange(db, target, 'revokeSessions', async (_tx, { member }) => member)
}
