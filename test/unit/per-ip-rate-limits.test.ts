/**
 * Per-IP budgets multiplied by IPv6: keyed on a full /128, one host's /64 holds 2^64 budgets for
 * password spraying, reset mail, sign-up floods and MFA guessing (black-box review). Per-IP
 * policies are spent only through `ctx.enforcePerIpRateLimit`, which keys them on
 * `ctx.clientNetwork` (IPv4 address or IPv6 /64). These checks keep a new call site from keying
 * one on the raw address again.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RequestContext } from '../../src/server/request-context'

const ROOT = resolve(import.meta.dirname, '../..')

function listSourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) return listSourceFiles(full)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [full] : []
  })
}

describe('per-IP rate limits are keyed on the client network, never on a raw address', () => {
  it('no rate-limit call in src/ passes the raw client address as its subject', () => {
    const offenders = listSourceFiles(join(ROOT, 'src')).flatMap((file) => {
      const source = readFileSync(file, 'utf8')
      return [...source.matchAll(/(?:enforceRateLimit|consumeRateLimit)\(([^)]*)\)/g)]
        .filter((match) => /clientIp\b/.test(match[1]!))
        .map((match) => `${relative(ROOT, file)}: ${match[0]}`)
    })
    expect(offenders).toEqual([])
  })

  it('a per-IP policy cannot be spent with a subject the caller chooses (a type error, checked by tsc)', () => {
    const spendWithRawAddress = (ctx: RequestContext) =>
      // @ts-expect-error: `…PerIp` policies go through enforcePerIpRateLimit, which keys them on ctx.clientNetwork
      ctx.enforceRateLimit('signInPerIp', ctx.clientIp)
    expect(typeof spendWithRawAddress).toBe('function')
  })
})
