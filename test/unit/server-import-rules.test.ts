/**
 * The domain must not depend on its transport (STYLE "grow out of"): code under these folders is
 * reused by tRPC, server functions and server routes (SSO callbacks), so it may never import from
 * `src/server/trpc` or `src/server/server-fn`. Each import of every file is read, so a violation
 * anywhere fails here with the file and the import named.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const DOMAIN_FOLDERS = ['auth', 'audit', 'users', 'mail', 'crypto', 'db', 'http', 'sso'].map((folder) => join(ROOT, 'src/server', folder))
const TRANSPORT_FOLDERS = ['src/server/trpc', 'src/server/server-fn', 'src/functions'].map((folder) => join(ROOT, folder))

function listSourceFiles(dir: string): string[] {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((entry) => {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) return listSourceFiles(full)
    return /\.tsx?$/.test(entry.name) ? [full] : []
  })
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function readImportSpecifiers(source: string): string[] {
  const pattern = /(?:\bimport\s*(?:type\s+)?(?:[^'"()]*?\bfrom\s*)?|\bexport\s+(?:type\s+)?[^'"()]*?\bfrom\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]/g
  return [...source.matchAll(pattern)].map((match) => match[1]!)
}

/** The transport folder a relative specifier of `file` resolves into, or null. */
export function transportTargetOf(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null
  const target = resolve(dirname(file), specifier)
  return TRANSPORT_FOLDERS.find((folder) => target === folder || target.startsWith(`${folder}/`)) ?? null
}

function findViolations(files: string[]): string[] {
  return files.flatMap((file) =>
    readImportSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => transportTargetOf(file, specifier) !== null)
      .map((specifier) => `${relative(ROOT, file)} imports '${specifier}'`),
  )
}

describe('server import rules', () => {
  it('no domain module imports from the tRPC or server-function layers', () => {
    const files = DOMAIN_FOLDERS.flatMap(listSourceFiles)
    expect(files.length).toBeGreaterThan(40)
    expect(findViolations(files)).toEqual([])
  })

  it('the rule sees every import form (so it can fail)', () => {
    const file = join(ROOT, 'src/server/auth/example.ts')
    const source = [
      "import type { TRPCContext } from '../trpc/init'",
      "import { appRouter } from '../trpc/root'",
      "export { createCaller } from '../trpc/root'",
      "const guards = await import('../server-fn/guards')",
      "import { x } from '../../functions/middleware'",
      "import { ok } from './session'",
      "import { z } from 'zod'",
    ].join('\n')
    const specifiers = readImportSpecifiers(source)
    expect(specifiers).toEqual(['../trpc/init', '../trpc/root', '../trpc/root', '../server-fn/guards', '../../functions/middleware', './session', 'zod'])
    expect(specifiers.filter((specifier) => transportTargetOf(file, specifier))).toHaveLength(5)
  })
})
