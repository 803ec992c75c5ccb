import { hash } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import { ARGON2_OPTIONS, hashPassword, needsRehash, verifyPassword } from './password'

describe('needsRehash (OWASP Password Storage: upgrade the work factor on sign-in)', () => {
  it('a hash made with the configured parameters needs nothing', async () => {
    const current = await hashPassword('correct horse battery staple')
    expect(current).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(needsRehash(current)).toBe(false)
  })

  it('a hash with less memory, fewer passes or a shorter output is weaker and needs a rehash', async () => {
    const password = 'correct horse battery staple'
    const weaker = [
      await hash(password, { ...ARGON2_OPTIONS, memoryCost: 4096 }),
      await hash(password, { ...ARGON2_OPTIONS, timeCost: 1 }),
      await hash(password, { ...ARGON2_OPTIONS, outputLen: 16 }),
    ]
    for (const stored of weaker) {
      expect(await verifyPassword(stored, password), stored).toBe(true)
      expect(needsRehash(stored), stored).toBe(true)
    }
  })

  it('another argon2 variant or the old 1.0 version needs a rehash', async () => {
    const argon2i = await hash('correct horse battery staple', { ...ARGON2_OPTIONS, algorithm: 1 })
    expect(argon2i).toMatch(/^\$argon2i\$/)
    expect(needsRehash(argon2i)).toBe(true)
    expect(needsRehash('$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG')).toBe(true)
  })

  it('stronger parameters than configured are left alone', async () => {
    const stronger = await hash('correct horse battery staple', { ...ARGON2_OPTIONS, memoryCost: 65536, timeCost: 3 })
    expect(needsRehash(stronger)).toBe(false)
  })

  it('an unreadable hash (another scheme, garbage) counts as needing a rehash', () => {
    expect(needsRehash('$2b$12$abcdefghijklmnopqrstuuXbYl4GrI2l5r0sZ5bQ7pQ0m0p2s7F6W')).toBe(true)
    expect(needsRehash('')).toBe(true)
  })
})
