import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EnvError, parseAppSecret, parseAppUrl, parseServerEnv } from './env'

const SECRET_BYTES = randomBytes(32)
const production = {
  NODE_ENV: 'production',
  APP_SECRET: SECRET_BYTES.toString('base64url'),
  APP_URL: 'https://auth.example.com',
  DATABASE_URL: 'mysql://gatehouse:pw@db:3306/gatehouse',
  SMTP_URL: 'smtps://user:pw@smtp.example.com:465',
}

describe('parseServerEnv in production refuses to start misconfigured (OWASP ASVS 14.1)', () => {
  it('accepts a complete production environment', () => {
    const env = parseServerEnv(production)
    expect(env).toMatchObject({ mode: 'production', databaseUrl: production.DATABASE_URL, port: 3000, trustProxyHops: 0 })
    expect(env.appUrl.origin).toBe('https://auth.example.com')
    expect(Buffer.from(env.appSecret).equals(SECRET_BYTES)).toBe(true)
  })

  it.each(['APP_SECRET', 'DATABASE_URL', 'APP_URL'] as const)('without %s it throws an EnvError naming the variable', (name) => {
    const { [name]: _omitted, ...rest } = production
    expect(() => parseServerEnv(rest)).toThrow(EnvError)
    expect(() => parseServerEnv(rest)).toThrow(new RegExp(name))
  })

  it('a plain-http APP_URL is refused unless the host is loopback', () => {
    expect(() => parseServerEnv({ ...production, APP_URL: 'http://auth.example.com' })).toThrow(/https/)
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
      expect(parseServerEnv({ ...production, APP_URL: url }).appUrl.protocol, url).toBe('http:')
    }
  })

  it('a DATABASE_URL that is not mysql:// is refused', () => {
    expect(() => parseServerEnv({ ...production, DATABASE_URL: 'postgres://db/gatehouse' })).toThrow(EnvError)
  })

  it('TRUST_PROXY_HOPS and PORT are bounded integers', () => {
    expect(parseServerEnv({ ...production, TRUST_PROXY_HOPS: '2', PORT: '8080' })).toMatchObject({ trustProxyHops: 2, port: 8080 })
    for (const bad of [{ TRUST_PROXY_HOPS: '-1' }, { TRUST_PROXY_HOPS: '11' }, { TRUST_PROXY_HOPS: '1.5' }, { PORT: '0' }, { PORT: '70000' }]) {
      expect(() => parseServerEnv({ ...production, ...bad }), JSON.stringify(bad)).toThrow(EnvError)
    }
  })
})

describe('parseAppSecret', () => {
  it('decodes hex and base64/base64url alike', () => {
    const bytes = randomBytes(32)
    for (const encoded of [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) {
      expect(Buffer.from(parseAppSecret(encoded)).equals(bytes), encoded).toBe(true)
    }
  })

  it('refuses fewer than 32 bytes', () => {
    expect(() => parseAppSecret(randomBytes(31).toString('hex'))).toThrow(/at least 32/)
    expect(() => parseAppSecret('changeme')).toThrow(EnvError)
  })

  it('refuses placeholders: long enough but with too few distinct bytes', () => {
    expect(() => parseAppSecret('a'.repeat(64))).toThrow(/placeholder/)
    expect(() => parseAppSecret('0123456789abcdef'.repeat(4))).toThrow(/placeholder/)
  })
})

describe('parseAppUrl', () => {
  it('wants a bare origin: no path, query, fragment or credentials', () => {
    for (const url of ['https://a.example/app', 'https://a.example/?x=1', 'https://a.example/#x', 'https://user:pw@a.example']) {
      expect(() => parseAppUrl(url, 'development'), url).toThrow(/bare origin/)
    }
    expect(parseAppUrl('https://a.example/', 'production').origin).toBe('https://a.example')
  })

  it('refuses non-URLs and non-http schemes', () => {
    expect(() => parseAppUrl('auth.example.com', 'development')).toThrow(/not a URL/)
    expect(() => parseAppUrl('ftp://a.example', 'development')).toThrow(EnvError)
  })

  it('development accepts plain http on any host', () => {
    expect(parseAppUrl('http://gatehouse.test:3000', 'development').host).toBe('gatehouse.test:3000')
  })
})

describe('development without APP_SECRET', () => {
  it('generates a local secret once under .data/ (mode 0600) and reuses it', () => {
    const projectRoot = mkdtempSync(join(tmpdir(), 'gatehouse-env-'))
    const first = parseServerEnv({ NODE_ENV: 'development' }, projectRoot)
    const second = parseServerEnv({ NODE_ENV: 'development' }, projectRoot)
    expect(Buffer.from(first.appSecret).equals(Buffer.from(second.appSecret))).toBe(true)
    const file = join(projectRoot, '.data/dev-app-secret')
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThan(40)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(first.appUrl.origin).toBe('http://localhost:3000')
  })
})
