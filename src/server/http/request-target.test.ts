/**
 * Path-spelling bypass of the request policies: a percent-encoded `/_serverFn/` or `/api/` that
 * Start decodes and dispatches, while a check on the raw path saw a page (black-box review:
 * `/%5FserverFn/<id>` answered a cross-site call with the victim's data). The classification must
 * agree with Start's routing for every spelling; `request-pipeline` and Start's middleware apply it.
 */
import { describe, expect, it } from 'vitest'
import { getRoutedPathname, isServerFnHttpRequest, resolveRequestTarget } from './request-target'

const ID = 'a'.repeat(64)
const at = (path: string) => new URL(`https://gatehouse.example${path}`)

describe('resolveRequestTarget: server-function calls', () => {
  it.each([
    ['the plain spelling', `/_serverFn/${ID}`],
    ['an encoded underscore (%5F)', `/%5FserverFn/${ID}`],
    ['an encoded underscore in lower case (%5f)', `/%5fserverFn/${ID}`],
    ['an encoded letter (%46 = F)', `/_server%46n/${ID}`],
    ['every character encoded', `/${[...'_serverFn'].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}/${ID}`],
    ['a dot segment', `/x/../_serverFn/${ID}`],
    ['an encoded dot segment (%2e%2e)', `/x/%2e%2e/_serverFn/${ID}`],
    ['a leading double slash (Start redirects it to the single-slash path)', `//_serverFn/${ID}`],
    ['a backslash (the URL parser reads it as a slash)', `/\\_serverFn/${ID}`],
  ])('%s is a server-function call with the id Start reads', (_label, path) => {
    expect(resolveRequestTarget(at(path))).toMatchObject({ serverFnId: ID, apiRoute: null })
  })

  it.each([
    ['a double-encoded underscore (%255F: decoded once, by us and by Start)', `/%255FserverFn/${ID}`],
    ['an encoded slash after the prefix (%2F stays inside the segment)', `/_serverFn%2F${ID}`],
    ['an encoded slash before the prefix', `/%2F_serverFn/${ID}`],
    ['an encoded slash with dots (not a dot segment)', `/x/..%2F_serverFn/${ID}`],
  ])('%s is not a server-function call (Start routes it as a page that does not exist)', (_label, path) => {
    expect(resolveRequestTarget(at(path))).toMatchObject({ serverFnId: null, apiRoute: null, isUnderApi: false })
  })

  it('the prefix is case-sensitive, as in Start (`/_SERVERFN/` is a page that does not exist)', () => {
    expect(resolveRequestTarget(at(`/_SERVERFN/${ID}`))?.serverFnId).toBeNull()
  })

  it('keeps an encoded slash inside the id, as Start does', () => {
    expect(resolveRequestTarget(at(`/_serverFn/${ID}%2Fx`))?.serverFnId).toBe(`${ID}%2Fx`)
  })

  it('an empty id is still a server-function call (empty: Start has no function to look up)', () => {
    expect(resolveRequestTarget(at('/_serverFn//x'))?.serverFnId).toBe('')
    expect(resolveRequestTarget(at('/_serverFn/'))?.serverFnId).toBe('')
  })

  it('isServerFnHttpRequest agrees, for a browser call and a page render', () => {
    expect(isServerFnHttpRequest(new Request(at(`/%5FserverFn/${ID}`)))).toBe(true)
    expect(isServerFnHttpRequest(new Request(at('/app')))).toBe(false)
  })
})

describe('resolveRequestTarget: API routes', () => {
  it.each([
    ['/api/trpc/auth.me', '/api/trpc/$'],
    ['/%61pi/trpc/auth.me', '/api/trpc/$'],
    ['/%41pi/trpc/auth.me', '/api/trpc/$'],
    ['/API/health', '/api/health'],
    ['/Api/Auth/SAML/abc/ACS', '/api/auth/saml/$connectionId/acs'],
    ['/api/%74rpc/auth.signIn', '/api/trpc/$'],
    ['//api/trpc/auth.me', '/api/trpc/$'],
    ['/%61pi/health', '/api/health'],
    ['/api/auth/saml/abc/%61cs', '/api/auth/saml/$connectionId/acs'],
  ])('%s is routed to %s', (path, routePath) => {
    const target = resolveRequestTarget(at(path))
    expect(target?.apiRoute?.path ?? null).toBe(routePath)
  })

  it('an encoded path under /api/ that lists no route is still under /api/ (never a page)', () => {
    expect(resolveRequestTarget(at('/%61pi/not-yet-written'))).toMatchObject({ apiRoute: null, isUnderApi: true, serverFnId: null })
  })

  it('the routed path is the decoded one; the query is not part of it', () => {
    expect(resolveRequestTarget(at('/%61pi/trpc/auth.me?input=%7B%7D'))?.routedPathname).toBe('/api/trpc/auth.me')
  })
})

describe('getRoutedPathname', () => {
  it('leaves %25 and %5C encoded (Start never decodes them)', () => {
    expect(getRoutedPathname(at('/a%25b%5Cc'))).toBe('/a%25b%5Cc')
  })

  it('is null for malformed percent-encoding, which Start refuses with 400 before routing', () => {
    expect(getRoutedPathname(at('/%E0%A4%A/_serverFn/x'))).toBeNull()
    expect(getRoutedPathname(at('/%C0%AF'))).toBeNull()
    expect(resolveRequestTarget(at('/%5FserverFn/%FF'))).toBeNull()
  })

  it('a plain path is itself', () => {
    expect(getRoutedPathname(at('/reset-password'))).toBe('/reset-password')
  })
})
