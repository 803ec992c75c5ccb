/**
 * Server-only code must never reach the browser bundle: a leaked module could expose SQL, the
 * secret-handling code or, worse, make the client bundle try to hold secrets. Two checks:
 * the real client build contains no server-only code, and a build in which a route imports a
 * server module fails.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

describe('import protection', () => {
  it('keeps server-only code out of the built client bundle', () => {
    const assets = join(ROOT, 'dist/client/assets')
    const bundle = readdirSync(assets)
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(assets, file), 'utf8'))
      .join('\n')
    expect(bundle.length).toBeGreaterThan(1000)
    for (const marker of ['mysql2', 'drizzle-orm/mysql', 'argon2', 'SELECT COUNT(*)', 'APP_SECRET', 'rate_limit_buckets', 'unstable_localLink']) {
      expect(bundle, `client bundle contains "${marker}"`).not.toContain(marker)
    }
  })

  it('fails the production build when a route imports a server module', () => {
    const workdir = mkdtempSync(join(tmpdir(), 'gatehouse-import-protection-'))
    try {
      for (const entry of ['src', 'db', 'app.config.ts', 'vite.config.ts', 'tsconfig.json', 'package.json']) {
        cpSync(join(ROOT, entry), join(workdir, entry), { recursive: true })
      }
      symlinkSync(join(ROOT, 'node_modules'), join(workdir, 'node_modules'))
      const homeRoute = join(workdir, 'src/routes/index.tsx')
      writeFileSync(homeRoute, `import { getDb } from '../server/db/client'\nconsole.log(getDb)\n${readFileSync(homeRoute, 'utf8')}`)
      const build = spawnSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'error'], { cwd: workdir, encoding: 'utf8' })
      expect(build.status).not.toBe(0)
      expect(`${build.stdout}${build.stderr}`).toMatch(/Import denied in client environment/)
    } finally {
      rmSync(workdir, { recursive: true, force: true })
    }
  }, 60_000)
})
