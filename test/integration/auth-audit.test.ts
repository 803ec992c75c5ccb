/**
 * The audit trail of password accounts (SPEC §7): every security event of a sign-in/out, session
 * revocation and password change is recorded with who, from where and how — and no row holds a
 * password, a token, a token secret or a hash of one (a log reader must not be able to sign in).
 */
import { describe, expect, it } from 'vitest'
import { verifyAuditChain } from '../../src/server/audit/audit-log'
import { isAuditEventType } from '../../src/server/audit/audit-event-types'
import { hashSessionSecret, parseSessionToken } from '../../src/server/auth/session'
import { getDb } from '../../src/server/db/client'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, requireIssuedToken, signedInCaller, sql, uniqueEmail } from '../support/auth-fixtures'
import { expectAppError } from '../support/trpc-errors'

const PASSWORD = 'an original passphrase 1984'
const NEW_PASSWORD = 'a replacement passphrase 2049'
const WRONG_PASSWORD = 'a wrong guess at the passphrase'
const IP = '203.0.113.50'
const USER_AGENT = 'AuditTest/2.0'

function client(cookieToken?: string) {
  return callerWithResponse({ ip: IP, headers: { 'user-agent': USER_AGENT }, cookie: cookieToken ? `gatehouse_session=${cookieToken}` : undefined, followCookies: true })
}

function parseDetails(value: unknown): Record<string, unknown> {
  return typeof value === 'string' ? JSON.parse(value) : (value as Record<string, unknown>)
}

describe('audit events of the password account lifecycle', () => {
  it('records sign-up, failed and successful sign-in, re-auth, revocations, password change and sign-out — without secrets', async () => {
    const email = uniqueEmail('audited')
    const secrets: string[] = [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]
    const firstId = Number((await sql('SELECT COALESCE(MAX(id), 0) AS id FROM audit_events'))[0]!.id)

    const signUp = client()
    await signUp.caller.auth.signUp({ email, password: PASSWORD, name: 'Audited' })
    secrets.push(requireIssuedToken(signUp.responseHeaders))
    const [{ id: userId }] = (await sql('SELECT id FROM users WHERE email = ?', [email])) as unknown as [{ id: string }]

    await expectAppError(client().caller.auth.signIn({ email, password: WRONG_PASSWORD }), 'INVALID_CREDENTIALS')
    await expectAppError(client().caller.auth.signIn({ email: uniqueEmail('unknown'), password: WRONG_PASSWORD }), 'INVALID_CREDENTIALS')

    const signIn = client()
    await signIn.caller.auth.signIn({ email, password: PASSWORD })
    const token = requireIssuedToken(signIn.responseHeaders)
    secrets.push(token)

    const current = client(token)
    await current.caller.auth.reauthenticate({ password: PASSWORD })
    secrets.push(requireIssuedToken(current.responseHeaders))
    const spare = await signedInCaller({ id: userId })
    const another = await signedInCaller({ id: userId })
    secrets.push(spare.token, another.token)
    await current.caller.sessions.revoke({ id: spare.sessionId })
    await current.caller.sessions.revokeOthers()
    await current.caller.account.changePassword({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
    const rotated = requireIssuedToken(current.responseHeaders)
    secrets.push(rotated)
    await callerWithToken(rotated, { ip: IP, headers: { 'user-agent': USER_AGENT } }).caller.auth.signOut()

    const rows = await sql('SELECT * FROM audit_events WHERE id > ? ORDER BY id', [firstId])
    expect(rows.map((row) => row.type)).toEqual([
      'auth.sign_up',
      'auth.sign_in.failed',
      'auth.sign_in.failed',
      'auth.sign_in.succeeded',
      'auth.reauthenticated',
      'session.revoked',
      'session.revoked_all',
      'password.changed',
      'auth.sign_out',
    ])
    for (const row of rows) {
      expect(isAuditEventType(String(row.type))).toBe(true)
      expect(row.ip).toBe(IP)
      expect(row.user_agent).toBe(USER_AGENT)
    }
    const [, badPassword, unknownEmail, succeeded] = rows
    expect(badPassword).toMatchObject({ subject_user_id: userId, actor_user_id: null })
    expect(parseDetails(badPassword!.details)).toEqual({ reason: 'bad_password' })
    expect(unknownEmail).toMatchObject({ subject_user_id: null, actor_user_id: null })
    expect(parseDetails(unknownEmail!.details)).toEqual({ reason: 'unknown_email' })
    expect(succeeded).toMatchObject({ subject_user_id: userId, actor_user_id: userId })
    expect(parseDetails(succeeded!.details)).toEqual({ method: 'password' })
    expect(parseDetails(rows[5]!.details)).toEqual({ sessionId: spare.sessionId })
    // The sign-up session (another browser) and `another`.
    expect(parseDetails(rows[6]!.details)).toEqual({ count: 2 })

    // Nothing a log reader could sign in with: no password, token, token secret or its stored hash.
    const forbidden = secrets.flatMap((secret) => {
      const parsed = parseSessionToken(secret)
      return parsed ? [secret, parsed.secret, hashSessionSecret(parsed.secret)] : [secret]
    })
    const [stored] = await sql('SELECT password_hash AS passwordHash FROM users WHERE id = ?', [userId])
    forbidden.push(String(stored!.passwordHash))
    const dump = JSON.stringify(rows)
    for (const value of forbidden) expect(dump).not.toContain(value)

    // And the chain still verifies after all of it.
    expect(await verifyAuditChain(getDb())).toMatchObject({ ok: true })
  })
})
