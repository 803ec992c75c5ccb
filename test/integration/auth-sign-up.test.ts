/**
 * auth.signUp: accounts are created once per normalised email, under the NIST SP 800-63B password
 * policy, from strict input only. Every refusal leaves users, sessions and the audit log untouched.
 */
import { describe, expect, it } from 'vitest'
import { callerWithResponse } from '../support/caller'
import { callerWithToken, countRows, createTestUser, nextTestIp, requireIssuedToken, signedInCaller, sql, TEST_PASSWORD, uniqueEmail } from '../support/auth-fixtures'
import { expectAppError, expectValidationError } from '../support/trpc-errors'

function anonymousCaller() {
  return callerWithResponse({ ip: nextTestIp() })
}

describe('auth.signUp creates an account and a session', () => {
  it('creates the user, signs them in, and auth.me returns them', async () => {
    const email = uniqueEmail('new')
    const before = await countRows()
    const { caller, responseHeaders } = anonymousCaller()

    await expect(caller.auth.signUp({ email, password: TEST_PASSWORD, name: 'New Person' })).resolves.toEqual({ status: 'signed-in' })

    const after = await countRows()
    expect(after.users).toBe(before.users + 1)
    expect(after.sessions).toBe(before.sessions + 1)
    const token = requireIssuedToken(responseHeaders)
    const viewer = await callerWithToken(token).caller.auth.me()
    expect(viewer).toMatchObject({ status: 'signed-in', user: { email, name: 'New Person', role: 'member', isMfaEnabled: false, organization: null } })
    const [stored] = await sql('SELECT password_hash AS passwordHash, role, organization_id AS organizationId FROM users WHERE email = ?', [email])
    // argon2id with the explicit parameters of SPEC §Fixed stack, never the plain password.
    expect(stored!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(stored!.role).toBe('member')
    expect(stored!.organizationId).toBeNull()
  })

  it('stores the email once, trimmed and lower-cased', async () => {
    const local = `Mixed-${Date.now()}`
    const { caller } = anonymousCaller()
    await caller.auth.signUp({ email: `  ${local}@Example.COM `, password: TEST_PASSWORD, name: 'Mixed Case' })
    const rows = await sql('SELECT email FROM users WHERE email LIKE ?', [`${local.toLowerCase()}%`])
    expect(rows.map((row) => row.email)).toEqual([`${local.toLowerCase()}@example.com`])
  })

  it('signing up while holding another session ends that session (no session kept across identities)', async () => {
    const { user } = await createTestUser()
    const { caller: oldCaller, token: oldToken } = await signedInCaller(user)
    expect(await oldCaller.auth.me()).not.toBeNull()
    const { caller } = callerWithToken(oldToken)
    await caller.auth.signUp({ email: uniqueEmail(), password: TEST_PASSWORD, name: 'Other' })
    expect(await callerWithToken(oldToken).caller.auth.me()).toBeNull()
  })
})

describe('duplicate accounts are refused', () => {
  it('a case/whitespace variant of a registered email cannot create a second account (EMAIL_TAKEN, nothing written)', async () => {
    const local = `dup${Date.now()}`
    await anonymousCaller().caller.auth.signUp({ email: `  ${local.toUpperCase()}@Example.COM `, password: TEST_PASSWORD, name: 'First' })
    const before = await countRows()

    await expectAppError(anonymousCaller().caller.auth.signUp({ email: `${local}@example.com`, password: TEST_PASSWORD, name: 'Second' }), 'EMAIL_TAKEN')
    await expectAppError(anonymousCaller().caller.auth.signUp({ email: `${local}@EXAMPLE.com`, password: TEST_PASSWORD, name: 'Third' }), 'EMAIL_TAKEN')

    expect(await countRows()).toEqual(before)
    const rows = await sql('SELECT name FROM users WHERE email = ?', [`${local}@example.com`])
    expect(rows.map((row) => row.name)).toEqual(['First'])
  })

  it('concurrent sign-ups with one email create exactly one account (the unique index decides, not a racy read)', async () => {
    const email = uniqueEmail('race')
    const results = await Promise.allSettled(
      Array.from({ length: 3 }, () => anonymousCaller().caller.auth.signUp({ email, password: TEST_PASSWORD, name: 'Racer' })),
    )
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason.cause?.appCode).toBe('EMAIL_TAKEN')
    }
    const rows = await sql('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])
    expect(Number(rows[0]!.n)).toBe(1)
  })
})

describe('password policy (NIST SP 800-63B §3.1.1.2)', () => {
  async function expectPolicyRefusal(password: string, messagePattern: RegExp) {
    const email = uniqueEmail('policy')
    const before = await countRows()
    const caught = await expectAppError(anonymousCaller().caller.auth.signUp({ email, password, name: 'Policy' }), 'PASSWORD_POLICY')
    expect(caught.message).toMatch(messagePattern)
    expect(await countRows()).toEqual(before)
  }

  it('a password shorter than the password-only minimum (15) is refused and nothing is written', async () => {
    await expectPolicyRefusal('abcdefghijklmn', /at least 15/)
    await expectPolicyRefusal('x', /at least 15/)
  })

  it('length is counted in characters: 14 emoji are too short even though they are 28 UTF-16 units', async () => {
    await expectPolicyRefusal('😀'.repeat(14), /at least 15/)
  })

  it('a common password from the shipped blocklist is refused, whatever its case', async () => {
    await expectPolicyRefusal('passwordpassword', /too common/)
    await expectPolicyRefusal('PasswordPassword', /too common/)
    await expectPolicyRefusal('qwerty123456789', /too common/)
    await expectPolicyRefusal('1qaz2wsx3edc4rfv', /too common/)
  })

  it('a password containing the email local part is refused', async () => {
    const local = `jonathan${Date.now()}`
    const before = await countRows()
    await expectAppError(
      anonymousCaller().caller.auth.signUp({ email: `${local}@example.com`, password: `my-${local}-secret`, name: 'J' }),
      'PASSWORD_POLICY',
    )
    expect(await countRows()).toEqual(before)
  })

  it('a password over the maximum (256 characters) is refused before any hashing', async () => {
    const before = await countRows()
    // 257 characters: the input schema (which counts characters like the policy, so emoji are
    // one each) refuses it with the limit in its message, before argon2 runs.
    const caught = await expectValidationError(anonymousCaller().caller.auth.signUp({ email: uniqueEmail(), password: 'a quiet lake '.repeat(20).slice(0, 257), name: 'Long' }))
    expect(caught.message).toContain('Use at most 256 characters.')
    // Far beyond it, a zod failure is raised by the input parser: the handler never runs.
    const started = performance.now()
    await expectValidationError(anonymousCaller().caller.auth.signUp({ email: uniqueEmail(), password: 'a'.repeat(1_000_000), name: 'Huge' }))
    // A megabyte "password" costs nothing: far below one argon2 run over it would.
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(await countRows()).toEqual(before)
  })

  it('long passwords are allowed: 64 and exactly 256 characters', async () => {
    const longest = Array.from({ length: 256 }, (_, i) => 'plum tree ok '[i % 13]).join('')
    for (const password of ['long passphrase '.repeat(4), longest]) {
      expect([...password].length).toBeGreaterThanOrEqual(64)
      const { caller, responseHeaders } = anonymousCaller()
      const email = uniqueEmail('long')
      await expect(caller.auth.signUp({ email, password, name: 'Long' })).resolves.toEqual({ status: 'signed-in' })
      requireIssuedToken(responseHeaders)
      await expect(anonymousCaller().caller.auth.signIn({ email, password })).resolves.toEqual({ status: 'signed-in' })
    }
  })

  it('no composition rules: lower-case words with spaces, or digits only, are fine when long and uncommon', async () => {
    for (const password of ['purple elephant dancing slowly', '839201746583920']) {
      await expect(anonymousCaller().caller.auth.signUp({ email: uniqueEmail('free'), password, name: 'Free' })).resolves.toEqual({ status: 'signed-in' })
    }
  })
})

describe('strict input (mass assignment)', () => {
  it('unknown keys such as role or organizationId are refused and nothing is written', async () => {
    const before = await countRows()
    const base = { email: uniqueEmail('mass'), password: TEST_PASSWORD, name: 'Mallory' }
    for (const extra of [{ role: 'owner' }, { organizationId: 'a'.repeat(26) }, { isEmailVerified: true }]) {
      // The attack sends keys the schema does not know (a spread, so the type checker lets it through).
      await expectValidationError(anonymousCaller().caller.auth.signUp({ ...base, ...extra }))
    }
    expect(await countRows()).toEqual(before)
  })

  it('a malformed email or an empty name is refused and nothing is written', async () => {
    const before = await countRows()
    await expectValidationError(anonymousCaller().caller.auth.signUp({ email: 'not-an-email', password: TEST_PASSWORD, name: 'X' }))
    await expectValidationError(anonymousCaller().caller.auth.signUp({ email: uniqueEmail(), password: TEST_PASSWORD, name: '   ' }))
    await expectValidationError(anonymousCaller().caller.auth.signUp({ email: `${'a'.repeat(320)}@example.com`, password: TEST_PASSWORD, name: 'X' }))
    expect(await countRows()).toEqual(before)
  })
})
