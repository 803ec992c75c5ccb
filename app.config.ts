/**
 * Gatehouse application configuration: the one place operators tune policy.
 * Per-deployment values and secrets (DATABASE_URL, APP_URL, APP_SECRET, …) come from the
 * environment instead; see `.env.example`.
 */
import { defineConfig } from './src/config/define-config'

export default defineConfig({
  appName: 'Gatehouse',
  roles: ['member', 'admin', 'owner'],
  defaultRole: 'member',
  signUp: { isEnabled: true },
  session: {
    // Product defaults; NIST SP 800-63B-4 AAL2 asks for 1 h idle / 24 h overall (README, Sessions).
    idleTimeoutSeconds: 60 * 60 * 24 * 7,
    renewalIntervalSeconds: 60 * 60,
    absoluteLifetimeSeconds: 60 * 60 * 24 * 30,
    reauthWindowSeconds: 60 * 10,
    purgeIntervalSeconds: 60 * 60,
  },
  client: { viewerRevalidateSeconds: 30 },
  cookie: { sessionCookieName: 'gatehouse_session' },
  password: { minLengthWithMfa: 8, minLengthWithoutMfa: 15, maxLength: 256, minStrengthScoreWithMfa: 2, minStrengthScoreWithoutMfa: 3 },
  mfa: { defaultPolicy: 'optional', maxAttemptsPerChallenge: 5, challengeLifetimeSeconds: 60 * 10 },
  notifications: { isNewDeviceSignInMailEnabled: true },
  lockout: { maxFailures: 10, maxFailuresPerKnownDevice: 5, windowSeconds: 60 * 15, maxConsecutiveMfaFailures: 100 },
  rateLimits: {
    signInPerIp: { limit: 30, windowSeconds: 60 * 5 },
    signInPerAccount: { limit: 10, windowSeconds: 60 * 5 },
    signUpPerIp: { limit: 10, windowSeconds: 60 * 60 },
    passwordResetPerIp: { limit: 10, windowSeconds: 60 * 60 },
    passwordResetPerAccount: { limit: 3, windowSeconds: 60 * 60 },
    mfaPerIp: { limit: 30, windowSeconds: 60 * 5 },
    ssoStartPerIp: { limit: 30, windowSeconds: 60 * 5 },
    verificationResendPerAccount: { limit: 3, windowSeconds: 60 * 60 },
    oneTimeLinkLookupPerIp: { limit: 60, windowSeconds: 60 * 60 },
    ssoCallbackPerIp: { limit: 30, windowSeconds: 60 * 5 },
    domainVerificationPerOrganization: { limit: 20, windowSeconds: 60 * 60 },
  },
  sso: {
    flowLifetimeSeconds: 60 * 10,
    clockSkewSeconds: 30,
    discoveryCacheTtlSeconds: 60 * 60,
    defaultMfaMode: 'require_gatehouse_mfa',
    samlAcceptedClockSkewMs: 30 * 1000,
    samlMaxAssertionAgeMs: 5 * 60 * 1000,
    samlMaxPostBytes: 256 * 1024,
  },
})
