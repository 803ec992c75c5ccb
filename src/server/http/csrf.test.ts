import { describe, expect, it } from 'vitest'
import { checkRequestOrigin, checkTrpcRequest, getMediaType } from './csrf'

const APP_ORIGIN = 'https://auth.example.com'

function headers(init: Record<string, string>): Headers {
  return new Headers(init)
}

describe('checkRequestOrigin', () => {
  it('allows a same-origin fetch that carries both signals', () => {
    expect(checkRequestOrigin(headers({ 'sec-fetch-site': 'same-origin', origin: APP_ORIGIN }), APP_ORIGIN)).toEqual({ isAllowed: true })
  })

  it('allows Sec-Fetch-Site same-origin without Origin (browsers omit Origin on some same-origin requests)', () => {
    expect(checkRequestOrigin(headers({ 'sec-fetch-site': 'same-origin' }), APP_ORIGIN)).toEqual({ isAllowed: true })
  })

  it('allows our Origin without Sec-Fetch-Site (browsers without Fetch Metadata)', () => {
    expect(checkRequestOrigin(headers({ origin: APP_ORIGIN }), APP_ORIGIN)).toEqual({ isAllowed: true })
  })

  it.each(['cross-site', 'same-site', 'none'])('refuses Sec-Fetch-Site %s even with our Origin', (site) => {
    expect(checkRequestOrigin(headers({ 'sec-fetch-site': site, origin: APP_ORIGIN }), APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'cross-site-fetch' })
  })

  it.each([
    ['another site', 'https://evil.example'],
    ['a sibling subdomain', 'https://app.example.com'],
    ['our host over plain http (scheme downgrade)', 'http://auth.example.com'],
    ['our host on another port', 'https://auth.example.com:8443'],
    ['the opaque null origin (sandboxed iframe, data: URL)', 'null'],
    ['a prefix trick', 'https://auth.example.com.evil.example'],
  ])('refuses Origin from %s, even with Sec-Fetch-Site same-origin', (_label, origin) => {
    expect(checkRequestOrigin(headers({ 'sec-fetch-site': 'same-origin', origin }), APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'foreign-origin' })
    expect(checkRequestOrigin(headers({ origin }), APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'foreign-origin' })
  })

  it('refuses a request with neither Origin nor Sec-Fetch-Site', () => {
    expect(checkRequestOrigin(headers({}), APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'no-origin-evidence' })
  })

  it('ignores Referer: a same-origin Referer alone is not proof', () => {
    expect(checkRequestOrigin(headers({ referer: `${APP_ORIGIN}/settings` }), APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'no-origin-evidence' })
  })
})

describe('getMediaType', () => {
  it.each([
    ['application/json', 'application/json'],
    ['Application/JSON; charset=utf-8', 'application/json'],
    [' text/plain ;charset=UTF-8', 'text/plain'],
  ])('%j → %j', (input, expected) => {
    expect(getMediaType(input)).toBe(expected)
  })

  it('is null without a header', () => {
    expect(getMediaType(null)).toBeNull()
  })
})

describe('checkTrpcRequest', () => {
  const sameOrigin = { 'sec-fetch-site': 'same-origin', origin: APP_ORIGIN }

  it('allows a same-origin JSON mutation', () => {
    expect(checkTrpcRequest({ method: 'POST', headers: headers({ ...sameOrigin, 'content-type': 'application/json' }) }, APP_ORIGIN)).toEqual({ isAllowed: true })
    expect(checkTrpcRequest({ method: 'POST', headers: headers({ ...sameOrigin, 'content-type': 'application/json; charset=utf-8' }) }, APP_ORIGIN)).toEqual({ isAllowed: true })
  })

  it.each(['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/jsonp'])(
    'refuses a same-origin POST whose body is %s',
    (contentType) => {
      expect(checkTrpcRequest({ method: 'POST', headers: headers({ ...sameOrigin, 'content-type': contentType }) }, APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'non-json-body' })
    },
  )

  it('refuses a same-origin POST without a Content-Type', () => {
    expect(checkTrpcRequest({ method: 'POST', headers: headers(sameOrigin) }, APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'non-json-body' })
  })

  it('refuses a cross-site JSON POST (the origin check comes first)', () => {
    expect(checkTrpcRequest({ method: 'POST', headers: headers({ origin: 'https://evil.example', 'content-type': 'application/json' }) }, APP_ORIGIN)).toEqual({
      isAllowed: false,
      reason: 'foreign-origin',
    })
  })

  it.each(['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'post'])('treats %s as state-changing', (method) => {
    expect(checkTrpcRequest({ method, headers: headers({ 'content-type': 'application/json' }) }, APP_ORIGIN)).toEqual({ isAllowed: false, reason: 'no-origin-evidence' })
  })

  it.each(['GET', 'HEAD'])('lets %s through without origin evidence (queries only; tRPC refuses a GET mutation itself)', (method) => {
    expect(checkTrpcRequest({ method, headers: headers({ 'sec-fetch-site': 'cross-site' }) }, APP_ORIGIN)).toEqual({ isAllowed: true })
  })
})
