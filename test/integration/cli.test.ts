/**
 * The `gatehouse` CLI as an operator runs it: a separate process on this worker's database.
 * Bad input exits 2 with a one-line reason and writes nothing.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { getDatabase } from '../../src/server/db/client'

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/server/cli/main.ts', ...args], { cwd: PROJECT_ROOT, env: { ...process.env }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

async function countRows(table: 'users' | 'organizations' | 'sessions'): Promise<number> {
  const [rows] = await getDatabase().pool.query(`SELECT COUNT(*) AS n FROM ${table}`)
  return Number((rows as Array<{ n: number }>)[0]!.n)
}

describe('gatehouse CLI', () => {
  it('creates an organization and a user in it, normalising the email', { timeout: 60_000 }, async () => {
    const org = await runCli(['org:create', '--name', 'Umbrella', '--slug', 'umbrella'])
    expect(org).toMatchObject({ code: 0 })
    expect(org.stdout).toMatch(/^created organization umbrella \(/)

    const user = await runCli(['user:create', '--email', '  Boss@Umbrella.TEST ', '--password', 'a long enough passphrase', '--role', 'owner', '--org', 'umbrella'])
    expect(user.code).toBe(0)
    const [rows] = await getDatabase().pool.query('SELECT email, role, password_hash FROM users WHERE email = ?', ['boss@umbrella.test'])
    const [created] = rows as Array<{ email: string; role: string; password_hash: string }>
    expect(created).toMatchObject({ email: 'boss@umbrella.test', role: 'owner' })
    // Stored as an argon2id PHC string with the explicit parameters, never the plain password.
    expect(created!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  })

  it.each([
    ['an unknown flag', ['user:create', '--email', 'x@y.test', '--bogus', '1'], /Unknown option '--bogus'/],
    ['a malformed email', ['user:create', '--email', 'not-an-email', '--password', 'a long enough passphrase', '--role', 'member'], /--email: Enter a valid email address/],
    ['an unknown role', ['user:create', '--email', 'x@y.test', '--password', 'a long enough passphrase', '--role', 'root'], /--role: must be one of: member, admin, owner/],
    ['a password below the policy', ['user:create', '--email', 'x@y.test', '--password', 'short', '--role', 'member'], /--password: Use at least 15 characters/],
    ['a common password', ['user:create', '--email', 'x@y.test', '--password', 'qwerty123456789', '--role', 'member'], /--password: This password is too common/],
    ['an organization that does not exist', ['user:create', '--email', 'x@y.test', '--password', 'a long enough passphrase', '--role', 'member', '--org', 'nope'], /--org: no organization/],
    ['an invalid slug', ['org:create', '--name', 'Bad', '--slug', 'Bad Slug!'], /--slug: lower-case letters/],
    ['an unknown command', ['user:destroy'], /unknown command "user:destroy"/],
  ])('refuses %s with exit 2, one line on stderr, and writes nothing', { timeout: 60_000 }, async (_label, args, message) => {
    const before = { users: await countRows('users'), organizations: await countRows('organizations') }
    const result = await runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(message)
    expect({ users: await countRows('users'), organizations: await countRows('organizations') }).toEqual(before)
  })
})
