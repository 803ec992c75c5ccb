import { describe, expect, it } from 'vitest'
import { createHeaderCookieJar, parseCookieHeader, serializeCookie } from './cookies'

describe('parseCookieHeader', () => {
  it('reads name=value pairs, trimming spaces and decoding escapes', () => {
    expect(parseCookieHeader('a=1; b = two ; c=x%20y')).toEqual(new Map([['a', '1'], ['b', 'two'], ['c', 'x y']]))
  })

  it('keeps the first occurrence of a name (RFC 6265 §5.4: the most specific path comes first)', () => {
    expect(parseCookieHeader('gatehouse_session=real; gatehouse_session=planted').get('gatehouse_session')).toBe('real')
  })

  it('ignores malformed parts and escapes instead of failing the request', () => {
    const cookies = parseCookieHeader('novalue; =orphan; bad=%E0%A4%A; ok=1')
    expect(cookies).toEqual(new Map([['ok', '1']]))
    expect(parseCookieHeader(null).size).toBe(0)
    expect(parseCookieHeader('').size).toBe(0)
  })

  it('keeps values containing "="', () => {
    expect(parseCookieHeader('t=a=b=c').get('t')).toBe('a=b=c')
  })
})

describe('serializeCookie', () => {
  it('writes every attribute it is given and nothing else (no Domain, ever)', () => {
    const expires = new Date('2030-01-02T03:04:05Z')
    expect(serializeCookie('s', 'v', { httpOnly: true, secure: true, sameSite: 'lax', path: '/', expires })).toBe(
      's=v; Path=/; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; SameSite=Lax',
    )
    expect(serializeCookie('s', '', { maxAge: 0, sameSite: 'strict' })).toBe('s=; Path=/; Max-Age=0; SameSite=Strict')
    expect(serializeCookie('s', 'v', {})).not.toMatch(/domain/i)
  })

  it('encodes values so a value cannot inject attributes (header/cookie injection)', () => {
    const line = serializeCookie('s', 'x; Domain=evil.example; Path=/', { path: '/' })
    expect(line.split('; ')).toEqual(['s=x%3B%20Domain%3Devil.example%3B%20Path%3D%2F', 'Path=/'])
  })

  it('never writes a negative or fractional Max-Age', () => {
    expect(serializeCookie('s', 'v', { maxAge: -5 })).toContain('Max-Age=0')
    expect(serializeCookie('s', 'v', { maxAge: 9.7 })).toContain('Max-Age=9')
  })
})

describe('createHeaderCookieJar', () => {
  it('reads the request cookies and appends Set-Cookie headers, seeing its own writes', () => {
    const request = new Request('http://localhost/', { headers: { cookie: 'a=1' } })
    const responseHeaders = new Headers()
    const jar = createHeaderCookieJar(request, responseHeaders)
    expect(jar.get('a')).toBe('1')
    jar.set('b', '2', { path: '/' })
    jar.set('a', '', { maxAge: 0 })
    expect(jar.get('b')).toBe('2')
    expect(jar.get('a')).toBeUndefined()
    expect(responseHeaders.getSetCookie()).toEqual(['b=2; Path=/', 'a=; Path=/; Max-Age=0'])
  })
})
