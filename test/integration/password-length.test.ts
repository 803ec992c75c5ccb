/**
 * Issue 11 item 7, "no silent truncation": the sign-up field's `maxlength` cut a pasted
 * 300-character password to 256 while sign-in sent it whole, so the account became unreachable.
 * Fields no longer truncate; the server refuses an over-long password on every form that takes
 * one — sign-up, sign-in, change (current and new), reset, re-authentication — with the same
 * message naming the limit, and writes nothing (NIST SP 800-63B §3.1.1.2: no truncation).
 */
import { describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { callerWithResponse } from '../support/caller'
import { createTestUser, nextTestIp, signedInCaller, sql, tableChecksums, uniqueEmail } from '../support/auth-fixtures'
import { catchTrpcError } from '../support/trpc-errors'

const { maxLength } = appConfig.password
const TOO_LONG = `Use at most ${maxLength} characters.`
/** 300 characters of a strong passphrase: refused only for its length. */
const PASTED_300 = Array.from({ length: 30 }, (_, i) => `lantern${String(i).padStart(2, '0')} `).join('').slice(0, 300)
/** 256 varied emoji: 512 UTF-16 units but exactly the limit in characters, as the policy counts. */
const EMOJI_AT_LIMIT = Array.from({ length: maxLength }, (_, i) => String.fromCodePoint(0x1f300 + ((i * 37) % 0x200))).join('')

/** The message a form shows for the field: the validation issue on `field`, or the app error's message. */
async function refusalMessage(call: Promise<unknown>, field: string): Promise<string> {
  const caught = await catchTrpcError(call)
  expect(caught.code).toBe('BAD_REQUEST')
  const zodIssues = (caught.error.cause as { issues?: Array<{ path: PropertyKey[]; message: string }> } | undefined)?.issues
  if (zodIssues) {
    const issue = zodIssues.find((candidate) => candidate.path[0] === field)
    expect(issue, JSON.stringify(zodIssues)).toBeDefined()
    return issue!.message
  }
  return caught.message
}

async function resetTokenFor(email: string): Promise<string> {
  await callerWithResponse({ ip: nextTestIp() }).caller.auth.requestPasswordReset({ email })
  const [mail] = await sql('SELECT text_body AS text FROM mail_outbox WHERE to_address = ? ORDER BY created_at DESC, id DESC LIMIT 1', [email])
  return new URL(String(mail!.text).match(/https?:\/\/\S+/)![0]).searchParams.get('token')!
}

describe('over-long password (300 characters) is refused with a message on every form, nothing written', () => {
  expect([...PASTED_300]).toHaveLength(300)

  it('sign-up', async () => {
    const before = await tableChecksums()
    const { caller } = callerWithResponse({ ip: nextTestIp() })
    expect(await refusalMessage(caller.auth.signUp({ email: uniqueEmail('long'), name: 'Long Paste', password: PASTED_300 }), 'password')).toBe(TOO_LONG)
    expect(await tableChecksums()).toEqual(before)
  })

  it('sign-in (the account the truncating field used to create is told why, not "incorrect")', async () => {
    const { user } = await createTestUser()
    const before = await tableChecksums()
    const { caller } = callerWithResponse({ ip: nextTestIp() })
    expect(await refusalMessage(caller.auth.signIn({ email: user.email, password: PASTED_300 }), 'password')).toBe(TOO_LONG)
    expect(await tableChecksums()).toEqual(before)
  })

  it('change password: the new password and the current one', async () => {
    const { user, password } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    const before = await tableChecksums()
    expect(await refusalMessage(caller.account.changePassword({ currentPassword: password, newPassword: PASTED_300 }), 'newPassword')).toBe(TOO_LONG)
    expect(await refusalMessage(caller.account.changePassword({ currentPassword: PASTED_300, newPassword: 'a brand new passphrase for 2027' }), 'currentPassword')).toBe(TOO_LONG)
    expect(await tableChecksums()).toEqual(before)
  })

  it('password reset', async () => {
    const { user } = await createTestUser()
    const token = await resetTokenFor(user.email)
    const before = await tableChecksums()
    expect(await refusalMessage(callerWithResponse({ ip: nextTestIp() }).caller.auth.resetPassword({ token, password: PASTED_300 }), 'password')).toBe(TOO_LONG)
    expect(await tableChecksums()).toEqual(before)
  })

  it('re-authentication', async () => {
    const { user } = await createTestUser()
    const { caller } = await signedInCaller(user, { ip: nextTestIp() })
    const before = await tableChecksums()
    expect(await refusalMessage(caller.auth.reauthenticate({ password: PASTED_300 }), 'password')).toBe(TOO_LONG)
    expect(await tableChecksums()).toEqual(before)
  })

  it('the limit counts characters, not UTF-16 units: 256 emoji are accepted at sign-up and sign in', async () => {
    const email = uniqueEmail('emoji')
    const { caller } = callerWithResponse({ ip: nextTestIp() })
    await caller.auth.signUp({ email, name: 'Emoji Fan', password: EMOJI_AT_LIMIT })
    const signIn = await callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email, password: EMOJI_AT_LIMIT })
    expect(signIn).toMatchObject({ status: expect.any(String) })
    expect(await refusalMessage(callerWithResponse({ ip: nextTestIp() }).caller.auth.signIn({ email, password: `${EMOJI_AT_LIMIT}🦊` }), 'password')).toBe(TOO_LONG)
  })
})
