import { describe, expect, it } from 'vitest'
import { emailSchema, NON_ASCII_LOCAL_PART_MESSAGE } from './email'

function messages(input: string): string[] {
  const result = emailSchema.safeParse(input)
  return result.success ? [] : result.error.issues.map((issue) => issue.message)
}

describe('emailSchema', () => {
  it('trims and lower-cases', () => {
    expect(emailSchema.parse('  Ada@Example.TEST ')).toBe('ada@example.test')
  })

  it('stores an internationalized domain in ASCII, however it was typed', () => {
    expect(emailSchema.parse('anna@Bücher.example')).toBe('anna@xn--bcher-kva.example')
    expect(emailSchema.parse('anna@xn--bcher-kva.example')).toBe('anna@xn--bcher-kva.example')
    expect(emailSchema.parse('ivan@россия.рф')).toBe('ivan@xn--h1alffa9f.xn--p1ai')
  })

  it('says precisely why a non-ASCII local part is refused', () => {
    expect(messages('änna@example.com')).toEqual([NON_ASCII_LOCAL_PART_MESSAGE])
  })

  it('refuses what is not an address with the general message', () => {
    expect(messages('a b@example.com')).toEqual(['Enter a valid email address'])
    expect(messages('nobody@localhost')).toEqual(['Enter a valid email address'])
  })
})
