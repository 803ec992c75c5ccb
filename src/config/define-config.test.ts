import { describe, expect, it } from 'vitest'
import appConfig from '../../app.config'
import { defineConfig, type AppConfig } from './define-config'

function withChanges(change: (config: AppConfig) => void): AppConfig {
  const config = structuredClone(appConfig) as AppConfig
  change(config)
  return config
}

describe('defineConfig validates app.config.ts at start-up', () => {
  it('accepts the shipped configuration and returns it unchanged', () => {
    const config = structuredClone(appConfig) as AppConfig
    expect(defineConfig(config)).toBe(config)
  })

  const invalid: Array<[string, (config: AppConfig) => void, RegExp]> = [
    ['duplicate roles', (c) => void (c.roles = ['member', 'member']), /roles must be unique/],
    ['a default role outside the list', (c) => void (c.defaultRole = 'guest'), /defaultRole must be one of roles/],
    ['renewal interval not shorter than the idle timeout', (c) => void (c.session.renewalIntervalSeconds = c.session.idleTimeoutSeconds), /renewal interval/],
    ['idle timeout beyond the absolute lifetime', (c) => void (c.session.idleTimeoutSeconds = c.session.absoluteLifetimeSeconds + 1), /idle timeout cannot exceed/],
    ['an MFA minimum above the password-only minimum', (c) => void (c.password.minLengthWithMfa = c.password.minLengthWithoutMfa + 1), /MFA minimum/],
    ['a password minimum under NIST’s 8', (c) => void (c.password.minLengthWithMfa = 7), /password\.minLengthWithMfa/],
    ['a maximum password length under 64', (c) => void (c.password.maxLength = 63), /password\.maxLength/],
    ['a zero lifetime', (c) => void (c.session.absoluteLifetimeSeconds = 0), /session\.absoluteLifetimeSeconds/],
    ['a fractional rate limit', (c) => void (c.rateLimits.signInPerIp.limit = 1.5), /rateLimits\.signInPerIp\.limit/],
    ['a cookie name that could carry attributes', (c) => void (c.cookie.sessionCookieName = 'x; Domain=evil'), /cookie\.sessionCookieName/],
    ['a role name with spaces', (c) => void (c.roles = ['member', 'super admin']), /roles/],
    ['more than NIST’s 100 consecutive second-factor failures', (c) => void (c.lockout.maxConsecutiveMfaFailures = 101), /lockout\.maxConsecutiveMfaFailures/],
    ['a second-factor cap one challenge of typos reaches', (c) => void (c.lockout.maxConsecutiveMfaFailures = c.mfa.maxAttemptsPerChallenge - 1), /one challenge of typos/],
    ['a known device allowed more guesses than untrusted clients', (c) => void (c.lockout.maxFailuresPerKnownDevice = c.lockout.maxFailures + 1), /lockout\.maxFailuresPerKnownDevice/],
    ['an MFA challenge too short to type a code', (c) => void (c.mfa.challengeLifetimeSeconds = 30), /mfa\.challengeLifetimeSeconds/],
    ['an MFA challenge that outlives half an hour', (c) => void (c.mfa.challengeLifetimeSeconds = 60 * 60), /mfa\.challengeLifetimeSeconds/],
  ]

  it.each(invalid)('refuses %s, naming the setting', (_name, change, message) => {
    expect(() => defineConfig(withChanges(change))).toThrow(/app\.config\.ts is invalid/)
    expect(() => defineConfig(withChanges(change))).toThrow(message)
  })

  it('refuses unknown keys (a typo must not silently keep the default)', () => {
    const config = withChanges((c) => {
      ;(c.session as Record<string, unknown>).idleTimeoutSecs = 60
    })
    expect(() => defineConfig(config)).toThrow(/app\.config\.ts is invalid/)
  })
})
