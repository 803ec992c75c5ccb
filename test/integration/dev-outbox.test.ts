/**
 * `dev.outbox`, the data behind /dev/outbox: newest mail first in development and tests, and
 * NOT_FOUND in production even when production keeps its mail in the outbox (tests, demos).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { getDb } from '../../src/server/db/client'
import { resetServerEnvForTests } from '../../src/server/env'
import { sendMail } from '../../src/server/mail/send-mail'
import { nextTestIp, uniqueEmail } from '../support/auth-fixtures'
import { callerWithResponse } from '../support/caller'
import { expectAppError } from '../support/trpc-errors'

const savedEnv = { NODE_ENV: process.env.NODE_ENV, MAIL_TRANSPORT: process.env.MAIL_TRANSPORT }

afterEach(() => {
  process.env.NODE_ENV = savedEnv.NODE_ENV
  if (savedEnv.MAIL_TRANSPORT === undefined) delete process.env.MAIL_TRANSPORT
  else process.env.MAIL_TRANSPORT = savedEnv.MAIL_TRANSPORT
  resetServerEnvForTests()
})

describe('dev.outbox', () => {
  it('lists the newest mail first with recipient, subject, time and text', async () => {
    const to = uniqueEmail('outbox')
    await sendMail(getDb(), { to, subject: 'First', text: 'one' })
    await new Promise((resolve) => setTimeout(resolve, 5))
    await sendMail(getDb(), { to, subject: 'Second', text: 'two https://localhost:3000/x?token=abc' })

    const messages = await callerWithResponse({ ip: nextTestIp() }).caller.dev.outbox()
    const mine = messages.filter((message) => message.to === to)
    expect(mine.map((message) => message.subject)).toEqual(['Second', 'First'])
    expect(mine[0]).toEqual({ id: expect.any(String), to, subject: 'Second', text: 'two https://localhost:3000/x?token=abc', html: null, createdAt: expect.any(String) })
    expect(Number.isNaN(Date.parse(mine[0]!.createdAt))).toBe(false)
  })

  it('keeps a message’s HTML alternative beside its text part, byte for byte', async () => {
    const to = uniqueEmail('outbox-html')
    const html = '<!doctype html>\n<html><body style="color: #0f172a"><p>Hello <b>ünïcode</b> 😀<br>\n<a href="http://localhost:3000/forgot-password">reset</a></p></body></html>'
    await sendMail(getDb(), { to, subject: 'With HTML', text: 'Hello', html })

    const messages = await callerWithResponse({ ip: nextTestIp() }).caller.dev.outbox()
    expect(messages.filter((message) => message.to === to)).toEqual([expect.objectContaining({ subject: 'With HTML', text: 'Hello', html })])
  })

  it('reset links leaking from production: NOT_FOUND in production, even with MAIL_TRANSPORT=outbox and mail stored', async () => {
    await sendMail(getDb(), { to: uniqueEmail('prod'), subject: 'Reset', text: 'https://localhost:3000/reset-password?token=secret' })
    process.env.NODE_ENV = 'production'
    process.env.MAIL_TRANSPORT = 'outbox'
    resetServerEnvForTests()
    await expectAppError(callerWithResponse({ ip: nextTestIp() }).caller.dev.outbox(), 'NOT_FOUND')
  })
})
