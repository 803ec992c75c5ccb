/**
 * docs/guide.md quotes code instead of inventing it: every fenced block starts with a comment
 * naming its file (`// docs/examples/profile-router.ts`), and the rest of the block must appear in
 * that file verbatim. The files are type-checked and tested, so the guide cannot drift from them.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const guide = readFileSync(resolve(ROOT, 'docs/guide.md'), 'utf8')
const blocks = [...guide.matchAll(/```(\w*)\n([\s\S]*?)\n```/g)].map((match) => ({ language: match[1]!, body: match[2]! }))

describe('docs/guide.md code blocks', () => {
  it('has code blocks', () => {
    expect(blocks.length).toBeGreaterThan(5)
  })

  it.each(blocks.map((block, index) => [index + 1, block] as const))('block %i names its file and matches it verbatim', (_, block) => {
    const [firstLine, ...rest] = block.body.split('\n')
    const path = /^\/\/ (\S+\.tsx?)$/.exec(firstLine ?? '')?.[1]
    expect(path, `a block must start with "// <file>": ${firstLine}`).toBeDefined()
    const source = readFileSync(resolve(ROOT, path!), 'utf8')
    expect(source.includes(rest.join('\n')), `the block differs from ${path}`).toBe(true)
  })
})
