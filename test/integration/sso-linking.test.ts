/**
 * The SSO linking rule (ADR 014; SPEC §6) against the real local provider: which account an IdP's
 * assertion may name. Each refusal is an account-takeover attack and must write nothing:
 *
 * - an IdP that does not vouch for the email (`email_verified: false`, OpenID Connect Core 1.0
 *   §5.1) claiming an existing account;
 * - an email at a domain not verified for the connection's organization (a pending claim, a public
 *   mail provider, another tenant's verified domain): any IdP could otherwise claim any address,
 *   and JIT provisioning would squat on other tenants' addresses ("nOAuth", Descope 2023);
 * - an account that belongs to another organization (cross-tenant takeover);
 * - an email change at the IdP: the identity is (connection, `sub`), never the email (OIDC Core
 *   §5.7: "the sub and iss Claims … are the only Claims that a Client can rely upon as a stable
 *   identifier");
 * - the same `sub` through another connection: another issuer's subject is another person.
 *
 * Linking is allowed for an account of the connection's organization or of none (which moves in).
 * A pre-registered account whose email was never verified loses its password, TOTP factor and
 * sessions when linked (account pre-hijacking, Sudhodanan & Paverd, USENIX Security 2022).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { LocalOidcUser } from '../../scripts/idp/oidc-provider'
import { signInAtLocalIdp } from '../../scripts/idp/sign-in-at-local-idp'
import { now } from '../../src/server/clock'
import { getDatabase, getDb } from '../../src/server/db/client'
import { generateId } from '../../src/server/ids'
import { clearOidcConfigurationCache } from '../../src/server/sso/oidc/configuration'
import { addOrganizationDomain } from '../../src/server/sso/domains'
import { callerFor } from '../support/caller'
import { createTestOrganization, createTestUser, nextTestIp, readUser, signedInCaller, sql } from '../support/auth-fixtures'
import { enrollTotpForTests } from '../support/mfa-fixtures'
import { beginSignInAs, callerIn, deliverCallback, loginThroughIdp, newTestBrowser, startOidcTestbed, type OidcTestbed } from '../support/oidc-fixtures'
import { auditEventsOfType, OPERATOR_ACTOR } from '../support/sso-fixtures'
import { expectRefusedWithNothingWritten, loginCapturingAccountState } from '../support/sso-refusals'

const domainA = 'linking-a.test'
const domainB = 'linking-b.test'
/** Claimed by organization A, never verified. */
const pendingDomainA = 'pending-a.test'
/** Verified by nobody: a public mail provider. */
const publicDomain = 'freemail.test'

function idpUser(localPart: string, domain: string, extra: Partial<LocalOidcUser> = {}): LocalOidcUser & { sub: string } {
  return { email: `${localPart}@${domain}`, password: `${localPart}-idp-password`, name: localPart, ...extra, sub: extra.sub ?? `${localPart}-subject` }
}

const SAM = idpUser('sam', domainA)
const NORA = idpUser('nora', domainA)
const UMA = idpUser('uma', domainA, { emailVerified: false })
const URI = idpUser('uri', domainA, { emailVerified: false })
const PAT = idpUser('pat', pendingDomainA)
const PUB = idpUser('pub', publicDomain)
const OLGA = idpUser('olga', domainA)
const BOB = idpUser('bob', domainB)
const BEA = idpUser('bea', domainB)
const VIC = idpUser('vic', domainA)
const REN = idpUser('ren', domainA)
const SOL = idpUser('sol', domainA, { sub: 'shared-subject' })
const MOE = idpUser('moe', domainA)
const LIA = idpUser('lia', domainA)
const PIA = idpUser('pia', domainA)
const AVA = idpUser('ava', domainA)

let testbed: OidcTestbed
const tenantA = () => testbed.tenants[0]!
const tenantB = () => testbed.tenants[1]!

beforeAll(async () => {
  clearOidcConfigurationCache()
  testbed = await startOidcTestbed([SAM, NORA, UMA, URI, PAT, PUB, OLGA, BOB, BEA, VIC, REN, SOL, MOE, LIA, PIA, AVA], [{ domain: domainA }, { domain: domainB }])
  await addOrganizationDomain({ db: getDb(), now: now(), actor: OPERATOR_ACTOR }, { organizationId: tenantA().organization.id, domain: pendingDomainA })
})

afterEach(() => {
  testbed.idp.setFaults(null)
})

afterAll(async () => {
  await testbed?.stop()
})

async function userIdByEmail(email: string): Promise<string | null> {
  const [row] = await sql('SELECT id FROM users WHERE email = ?', [email])
  return row?.id ?? null
}

async function identitiesOf(userId: string) {
  return sql('SELECT connection_id, subject FROM sso_identities WHERE user_id = ?', [userId])
}

describe('linking an IdP identity to an existing account', () => {
  it('links an account of the connection’s organization and keeps its credentials', async () => {
    const { user } = await createTestUser({ email: SAM.email, organizationId: tenantA().organization.id })

    const { response, browser } = await loginThroughIdp(SAM)

    expect(response.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id } })
    expect(await identitiesOf(user.id)).toEqual([{ connection_id: tenantA().connection.id, subject: SAM.sub }])
    expect((await readUser(user.id))!.passwordHash).toBe(user.passwordHash)
    const linked = (await auditEventsOfType('sso.identity.linked')).filter((event) => event.subjectUserId === user.id)
    expect(linked).toEqual([
      expect.objectContaining({ organizationId: tenantA().organization.id, details: { connectionId: tenantA().connection.id, removedSignInFactors: false, joinedOrganization: false } }),
    ])
  })

  it('links an account of no organization, which moves into the connection’s organization', async () => {
    const { user } = await createTestUser({ email: NORA.email, organizationId: null })

    const { response, browser } = await loginThroughIdp(NORA)

    expect(response.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id, organization: { id: tenantA().organization.id } } })
    expect((await readUser(user.id))!.organizationId).toBe(tenantA().organization.id)
    const linked = (await auditEventsOfType('sso.identity.linked')).filter((event) => event.subjectUserId === user.id)
    expect(linked).toEqual([expect.objectContaining({ details: expect.objectContaining({ removedSignInFactors: false, joinedOrganization: true }) })])
  })

  it('a pre-registered account with an unverified email loses its password, TOTP factor and sessions when linked', async () => {
    // The attacker registered the victim's work address before the victim's company adopted SSO,
    // set a password and a TOTP factor, and keeps a session open.
    const { user, password } = await createTestUser({ email: VIC.email, organizationId: null })
    await sql('UPDATE users SET email_verified_at = NULL WHERE id = ?', [user.id])
    await enrollTotpForTests(user)
    const attacker = await signedInCaller(user, { isMfaSatisfied: true })

    const { response, browser } = await loginThroughIdp(VIC)

    expect(response.status).toBe(303)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: user.id, isMfaEnabled: false, isEmailVerified: true } })
    const linkedUser = (await readUser(user.id))!
    expect(linkedUser).toMatchObject({ passwordHash: null, mfaEnabledAt: null, organizationId: tenantA().organization.id })
    expect(await sql('SELECT id FROM totp_credentials WHERE user_id = ?', [user.id])).toHaveLength(0)
    expect(await sql('SELECT id FROM recovery_codes WHERE user_id = ?', [user.id])).toHaveLength(0)
    expect(await sql('SELECT id FROM sessions WHERE id = ?', [attacker.sessionId])).toHaveLength(0)
    expect(await attacker.caller.auth.me()).toBeNull()
    await expect(callerFor({ ip: nextTestIp() }).auth.signIn({ email: VIC.email, password })).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    const linked = (await auditEventsOfType('sso.identity.linked')).filter((event) => event.subjectUserId === user.id)
    expect(linked).toEqual([expect.objectContaining({ details: { connectionId: tenantA().connection.id, removedSignInFactors: true, joinedOrganization: true } })])
  })
})

describe('refused links write nothing', () => {
  type RefusalCase = {
    attack: string
    idpUser: LocalOidcUser
    /** The email typed at the email-first step (routes to tenant A); the IdP user's own when omitted. */
    discoverWith?: string
    /** The account the attacker hopes to be signed into, created before the login. */
    existingAccount?: () => Promise<string>
    reason: string
  }

  const accountIn = (email: string, organizationId: () => string | null) => async () => (await createTestUser({ email, organizationId: organizationId() })).user.id

  const cases: RefusalCase[] = [
    { attack: 'email_verified: false, naming an existing account', idpUser: UMA, existingAccount: accountIn(UMA.email, () => tenantA().organization.id), reason: 'email_not_verified' },
    { attack: 'email_verified: false, no account (no JIT)', idpUser: URI, reason: 'email_not_verified' },
    { attack: 'an email at a domain the organization claimed but never verified', idpUser: PAT, discoverWith: `someone@${domainA}`, reason: 'domain_not_verified' },
    { attack: 'an email at a domain verified by nobody (public mail)', idpUser: PUB, discoverWith: `someone@${domainA}`, reason: 'domain_not_verified' },
    {
      attack: 'an account of another organization',
      idpUser: OLGA,
      existingAccount: async () => (await createTestUser({ email: OLGA.email, organizationId: (await createTestOrganization()).id })).user.id,
      reason: 'user_in_other_organization',
    },
    { attack: 'an email at another tenant’s verified domain, no account (no JIT)', idpUser: BOB, discoverWith: `someone@${domainA}`, reason: 'domain_not_verified' },
    {
      attack: 'an email at another tenant’s verified domain, that tenant’s account',
      idpUser: BEA,
      discoverWith: `someone@${domainA}`,
      existingAccount: accountIn(BEA.email, () => tenantB().organization.id),
      reason: 'domain_not_verified',
    },
  ]

  it.each(cases)('$attack is refused ($reason)', async ({ idpUser: asserted, discoverWith, existingAccount, reason }) => {
    const accountId = existingAccount ? await existingAccount() : null

    const login = await loginCapturingAccountState(asserted, { emailForDiscovery: discoverWith })

    const event = await expectRefusedWithNothingWritten(login, { status: 403, reason })
    expect(event.details.connectionId).toBe(tenantA().connection.id)
    expect(await sql('SELECT id FROM sso_identities WHERE subject = ?', [asserted.sub])).toHaveLength(0)
    expect(await userIdByEmail(asserted.email)).toBe(accountId)
    expect(await callerIn(login.browser).auth.me()).toBeNull()
  })
})

describe('an existing identity whose account moved to another organization', () => {
  it('is refused with nothing written: the connection signs nobody into another organization', async () => {
    await loginThroughIdp(MOE)
    const moeId = (await userIdByEmail(MOE.email))!
    const other = await createTestOrganization()
    await sql('UPDATE users SET organization_id = ? WHERE id = ?', [other.id, moeId])

    const login = await loginCapturingAccountState(MOE)

    const event = await expectRefusedWithNothingWritten(login, { status: 403, reason: 'user_in_other_organization' })
    expect(event).toMatchObject({ subjectUserId: moeId, organizationId: tenantA().organization.id })
    expect(await callerIn(login.browser).auth.me()).toBeNull()
  })
})

describe('an identity is (connection, sub), never the email', () => {
  it('an email change at the IdP does not re-map the identity to the account with the new email', async () => {
    const first = await loginThroughIdp(REN)
    const renId = (await userIdByEmail(REN.email))!
    expect(first.response.status).toBe(303)
    // The IdP (or someone administering it) renames Ren to a colleague's address, then to a fresh one.
    const { user: victim } = await createTestUser({ email: `victim@${domainA}`, organizationId: tenantA().organization.id })
    const renamedTo = [victim.email, `ren.renamed@${domainA}`]

    for (const email of renamedTo) {
      testbed.idp.setFaults({ idToken: { claims: { email } } })
      const { response, browser } = await loginThroughIdp(REN)

      expect(response.status).toBe(303)
      expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: renId, email: REN.email } })
    }
    expect(await identitiesOf(victim.id)).toHaveLength(0)
    expect(await sql('SELECT id FROM sessions WHERE user_id = ?', [victim.id])).toHaveLength(0)
    expect(await userIdByEmail(`ren.renamed@${domainA}`)).toBeNull()
    expect(await identitiesOf(renId)).toEqual([{ connection_id: tenantA().connection.id, subject: REN.sub }])
  })

  it('the same sub through another connection is another identity', async () => {
    const viaA = await loginThroughIdp(SOL)
    const solA = (await userIdByEmail(SOL.email))!
    expect(viaA.response.status).toBe(303)

    // Through B, the same subject asserting A's address does not reach A's account.
    const viaB = await loginCapturingAccountState(SOL, { emailForDiscovery: `someone@${domainB}` })
    const event = await expectRefusedWithNothingWritten(viaB, { status: 403, reason: 'domain_not_verified' })
    expect(event.details.connectionId).toBe(tenantB().connection.id)

    // Through B with an address at B's domain, it is a new person in B.
    testbed.idp.setFaults({ idToken: { claims: { email: `sol@${domainB}` } } })
    const { browser } = await loginThroughIdp(SOL, { emailForDiscovery: `someone@${domainB}` })
    const solB = (await userIdByEmail(`sol@${domainB}`))!
    expect(solB).not.toBe(solA)
    expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: solB, organization: { id: tenantB().organization.id } } })
    const identities = await sql('SELECT connection_id, user_id FROM sso_identities WHERE subject = ? ORDER BY created_at, id', [SOL.sub])
    expect(identities).toEqual(
      expect.arrayContaining([
        { connection_id: tenantA().connection.id, user_id: solA },
        { connection_id: tenantB().connection.id, user_id: solB },
      ]),
    )
    expect(identities).toHaveLength(2)
  })
})

/**
 * Another request's link of (tenant A's connection, `subject`) to `userId`, inserted but not yet
 * committed: the sign-in under test does not see it when it looks the identity up, and its own
 * insert then waits on the unique key until `commit()` makes it fail with a duplicate key — after
 * every earlier statement of the link or account creation has run.
 */
async function beginConcurrentLink(subject: string, userId: string) {
  const connection = await getDatabase().pool.getConnection()
  await connection.query('BEGIN')
  await connection.query('INSERT INTO sso_identities (id, connection_id, subject, user_id, created_at) VALUES (?, ?, ?, ?, ?)', [
    generateId(),
    tenantA().connection.id,
    subject,
    userId,
    now(),
  ])
  let isOpen = true
  /** Ends the transaction once; later calls do nothing. */
  const end = async (statement: 'COMMIT' | 'ROLLBACK') => {
    if (!isOpen) return
    isOpen = false
    await connection.query(statement)
    connection.release()
  }
  return { commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') }
}

type BlockedStatement = { threadId: number; isInTransactionWithChanges: boolean }

/**
 * INNODB_TRX is a cache that MariaDB refreshes only when it has not been read for 100 ms: polled
 * faster it never changes, and a read right after a commit may still show the ended transaction.
 */
const INNODB_TRX_CACHE_MS = 100

async function transactionOfThread(threadId: number) {
  const [transaction] = await sql('SELECT trx_state AS trxState, trx_rows_modified AS rowsModified FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ?', [threadId])
  return transaction ? { trxState: String(transaction.trxState), rowsModified: Number(transaction.rowsModified) } : null
}

/**
 * Waits until a statement on this worker's database that starts with `statementPrefix` is blocked,
 * on a row lock (InnoDB `LOCK WAIT`) or on a `GET_LOCK` (state `User lock`), and says whether it
 * waits inside a transaction that has already changed rows. (Two plain queries: MariaDB returned
 * no rows for a join of PROCESSLIST with INNODB_TRX while the wait was visible in each.)
 */
async function waitUntilBlocked(statementPrefix: string): Promise<BlockedStatement> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const threads = await sql('SELECT ID AS threadId, STATE AS state FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE ?', [`${statementPrefix}%`])
    for (const { threadId, state } of threads) {
      if (state === 'User lock') {
        // Still waiting after the cache's refresh interval: what it reports now is this wait's transaction.
        await new Promise((resolve) => setTimeout(resolve, 1.5 * INNODB_TRX_CACHE_MS))
        const transaction = await transactionOfThread(Number(threadId))
        return { threadId: Number(threadId), isInTransactionWithChanges: (transaction?.rowsModified ?? 0) > 0 }
      }
      const transaction = await transactionOfThread(Number(threadId))
      if (transaction?.trxState === 'LOCK WAIT') return { threadId: Number(threadId), isInTransactionWithChanges: transaction.rowsModified > 0 }
    }
    await new Promise((resolve) => setTimeout(resolve, 1.5 * INNODB_TRX_CACHE_MS))
  }
  throw new Error(`no statement starting with "${statementPrefix}" became blocked within 10 s`)
}

/** Everything a link could change about an account: its row, second factor, recovery codes, sessions. */
async function accountStateOf(userId: string) {
  return {
    user: await readUser(userId),
    totpCredentials: await sql('SELECT id, confirmed_at FROM totp_credentials WHERE user_id = ? ORDER BY id', [userId]),
    recoveryCodes: await sql('SELECT id, used_at FROM recovery_codes WHERE user_id = ? ORDER BY id', [userId]),
    sessions: await sql('SELECT id FROM sessions WHERE user_id = ? ORDER BY id', [userId]),
    identities: await identitiesOf(userId),
  }
}

describe('a link or account creation that loses the race for its identity changes nothing', () => {
  // Two callbacks for one IdP subject run at once (two tabs, a retried callback, an IdP that
  // renamed the user in between so each asserts another address). Both miss the identity at
  // look-up; the loser's insert of (connection, subject) fails on the unique key after its earlier
  // statements ran. Those must roll back with it: otherwise an account loses its password, second
  // factor and sessions and moves into the organization without being linked, or an SSO-only
  // account exists that no identity reaches and whose address nobody can sign up with again.
  const INSERT_IDENTITY = 'insert into `sso_identities`'

  /**
   * Signs `asserted` in while another request links the same subject to `winnerId`: the login's
   * identity insert waits on that uncommitted row, then loses. Resolving again after the lost
   * insert finds the identity the other request linked, so the browser is signed in as the winner.
   */
  async function expectLoginToLoseTheLinkRace(asserted: LocalOidcUser, winnerId: string): Promise<void> {
    const concurrentLink = await beginConcurrentLink(asserted.sub!, winnerId)
    try {
      const login = loginThroughIdp(asserted)
      try {
        await waitUntilBlocked(INSERT_IDENTITY)
      } finally {
        await concurrentLink.commit()
      }
      const { response, browser } = await login
      expect(response.status).toBe(303)
      expect(await callerIn(browser).auth.me()).toMatchObject({ status: 'signed-in', user: { id: winnerId } })
    } finally {
      await concurrentLink.rollback()
    }
  }

  it('a pre-registered account keeps its password, TOTP factor, sessions, organization and unverified email', async () => {
    const { user: winner } = await createTestUser({ email: `lia.renamed@${domainA}`, organizationId: tenantA().organization.id })
    const { user } = await createTestUser({ email: LIA.email, organizationId: null })
    await sql('UPDATE users SET email_verified_at = NULL WHERE id = ?', [user.id])
    await enrollTotpForTests(user)
    await signedInCaller(user, { isMfaSatisfied: true })
    const before = await accountStateOf(user.id)
    const linkedEventsBefore = await auditEventsOfType('sso.identity.linked')

    await expectLoginToLoseTheLinkRace(LIA, winner.id)
    expect(await accountStateOf(user.id)).toEqual(before)
    expect(before.user).toMatchObject({ organizationId: null, emailVerifiedAt: null, passwordHash: user.passwordHash, mfaEnabledAt: expect.any(Date) })
    expect(before.sessions).toHaveLength(1)
    expect(await auditEventsOfType('sso.identity.linked')).toEqual(linkedEventsBefore)
  })

  it('a new account is not left behind without its identity (no orphan SSO-only user)', async () => {
    const { user: winner } = await createTestUser({ email: `pia.renamed@${domainA}`, organizationId: tenantA().organization.id })
    const usersBefore = await sql('SELECT COUNT(*) AS n FROM users')
    const provisionedEventsBefore = await auditEventsOfType('user.provisioned')

    await expectLoginToLoseTheLinkRace(PIA, winner.id)
    expect(await userIdByEmail(PIA.email)).toBeNull()
    expect(await sql('SELECT COUNT(*) AS n FROM users')).toEqual(usersBefore)
    expect(await auditEventsOfType('user.provisioned')).toEqual(provisionedEventsBefore)
  })
})

describe('a link and its audit event commit together', () => {
  // Appended after the commit, the event is lost when the process dies in between: a pre-hijacked
  // account would lose its password and factors with nothing in the log to say why (SPEC §7).
  // Appended before it, a link that then rolls back would be on record as having happened.
  // Pinned like the audit-log test's: the name the app's chain lock must keep.
  const CHAIN_LOCK_NAME_SQL = "CONCAT('gatehouse_audit_', SHA1(DATABASE()))"

  it('while the event waits for the chain lock, the link is invisible; once appended, both are there', async () => {
    const { user } = await createTestUser({ email: AVA.email, organizationId: null })
    const browser = newTestBrowser()
    const answer = await beginSignInAs(browser, AVA.email)
    if (answer.next !== 'sso') throw new Error(`expected SSO for ${AVA.email}, got ${answer.next}`)
    const callbackUrl = await signInAtLocalIdp(answer.url, AVA)
    const holder = await getDatabase().pool.getConnection()
    try {
      await holder.query(`SELECT GET_LOCK(${CHAIN_LOCK_NAME_SQL}, 1)`)
      const callback = deliverCallback(browser, callbackUrl)

      const appender = await waitUntilBlocked('SELECT GET_LOCK')
      expect(appender.isInTransactionWithChanges).toBe(true)
      expect(await identitiesOf(user.id)).toEqual([])
      expect((await readUser(user.id))!.organizationId).toBeNull()
      expect((await auditEventsOfType('sso.identity.linked')).filter((event) => event.subjectUserId === user.id)).toEqual([])

      await holder.query(`SELECT RELEASE_LOCK(${CHAIN_LOCK_NAME_SQL})`)
      expect((await callback).status).toBe(303)
    } finally {
      await holder.query(`SELECT RELEASE_LOCK(${CHAIN_LOCK_NAME_SQL})`)
      holder.release()
    }
    expect(await identitiesOf(user.id)).toEqual([{ connection_id: tenantA().connection.id, subject: AVA.sub }])
    expect((await auditEventsOfType('sso.identity.linked')).filter((event) => event.subjectUserId === user.id)).toHaveLength(1)
  })
})
