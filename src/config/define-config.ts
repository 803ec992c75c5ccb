/**
 * The shape of `app.config.ts`: Gatehouse's typed, validated application configuration.
 *
 * Client-safe: it holds policy (roles, lifetimes, limits), never secrets. Secrets and anything that
 * differs per deployment come from the environment (see `src/server/env.ts`).
 */
import { z } from 'zod'

const positiveSeconds = z.number().int().positive()

const rateLimitPolicySchema = z.strictObject({
  /** How many attempts the bucket allows inside the window. */
  limit: z.number().int().positive(),
  windowSeconds: positiveSeconds,
})

export const appConfigSchema = z
  .strictObject({
    appName: z.string().min(1).max(60),
    /** Ordered from least to most privileged; a user holds exactly one, scoped to their organization. */
    roles: z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/)).min(1),
    defaultRole: z.string(),
    signUp: z.strictObject({ isEnabled: z.boolean() }),
    session: z.strictObject({
      /** A session unused for this long is dead (NIST 800-63B §7.2 reauthentication on inactivity). */
      idleTimeoutSeconds: positiveSeconds,
      /** Renewal of `expires_at` is written at most once per this interval, not on every request. */
      renewalIntervalSeconds: positiveSeconds,
      /** Hard cap from creation; sliding renewal never extends a session past it. */
      absoluteLifetimeSeconds: positiveSeconds,
      /** Sensitive procedures demand a re-authentication no older than this. */
      reauthWindowSeconds: positiveSeconds,
      /** How often expired rows are purged by the scheduler. */
      purgeIntervalSeconds: positiveSeconds,
    }),
    client: z.strictObject({
      /** The browser re-checks the viewer this often (and on focus / reconnect). */
      viewerRevalidateSeconds: positiveSeconds,
    }),
    cookie: z.strictObject({
      /** Base name; served over https it becomes `__Host-<name>` with `Secure`. */
      sessionCookieName: z.string().regex(/^[a-z][a-z0-9_-]*$/),
    }),
    password: z.strictObject({
      /** NIST 800-63B §3.1.1.2: at least 8 with MFA, 15 when the password is the only factor. */
      minLengthWithMfa: z.number().int().min(8),
      minLengthWithoutMfa: z.number().int().min(8),
      /** Rejected before hashing so a huge input cannot burn CPU (NIST asks to allow ≥ 64). */
      maxLength: z.number().int().min(64).max(1024),
      /**
       * Minimum zxcvbn score (0–4: under 10^3, 10^6, 10^8, 10^10 estimated guesses, or more) on top
       * of the blocklist. 3 refuses keyboard walks and patterned passwords; an 8-character random
       * password scores 2, so accounts with a second factor (8 allowed) need one step less. ADR 010.
       */
      minStrengthScoreWithMfa: z.number().int().min(0).max(4),
      minStrengthScoreWithoutMfa: z.number().int().min(0).max(4),
    }),
    mfa: z.strictObject({
      defaultPolicy: z.enum(['optional', 'required']),
      /** Wrong codes allowed against one MFA challenge before the challenge is dropped. */
      maxAttemptsPerChallenge: z.number().int().positive(),
      /**
       * How long a session that has proven the password but still owes its second factor lives
       * (the MFA challenge). Minutes, not the idle timeout: a password-only foothold must not wait
       * days for its code. Proving the factor gives the session the normal lifetimes.
       */
      challengeLifetimeSeconds: z.number().int().min(60).max(60 * 30),
    }),
    notifications: z.strictObject({
      /**
       * Mail the owner when a sign-in completes from a browser that never signed in to the account
       * (ASVS 6.3.7; `src/server/auth/known-devices.ts`, ADR 013). Other security mails always go.
       */
      isNewDeviceSignInMailEnabled: z.boolean(),
    }),
    /** Online guessing (NIST SP 800-63B-4 §3.2.2; OWASP ASVS 5.0 V6.1.1, V6.3.1; ADR 016). */
    lockout: z.strictObject({
      /**
       * Failed passwords and codes per account inside the window from clients that do not present
       * the account's known-device tag, together; then those clients (only) are refused until the
       * window ends. Anyone who knows an email can spend it, so it never locks out a known device.
       */
      maxFailures: z.number().int().positive(),
      /** The same, for each known device of the account on its own: a stolen browser cannot guess for long either. */
      maxFailuresPerKnownDevice: z.number().int().positive(),
      windowSeconds: positiveSeconds,
      /**
       * Consecutive wrong second-factor codes (TOTP or recovery, at sign-in or step-up) after which
       * authenticator codes are refused until the owner signs in with a recovery code or an admin
       * resets MFA. Only a full sign-in (or a code step-up) ends the streak; a window never does.
       * NIST SP 800-63B-4 §3.2.2 allows at most 100.
       */
      maxConsecutiveMfaFailures: z.number().int().positive().max(100),
    }),
    // A name ending in `PerIp` counts the client's network (IPv4 address, IPv6 /64) and is spent
    // with `ctx.enforcePerIpRateLimit(name)`; any other name counts a subject the caller names.
    rateLimits: z.strictObject({
      signInPerIp: rateLimitPolicySchema,
      /** Sign-in attempts per email before any check, from clients that are not a known device of the account (anyone's flood spends it; ADR 016). */
      signInPerAccount: rateLimitPolicySchema,
      signUpPerIp: rateLimitPolicySchema,
      passwordResetPerIp: rateLimitPolicySchema,
      passwordResetPerAccount: rateLimitPolicySchema,
      mfaPerIp: rateLimitPolicySchema,
      ssoStartPerIp: rateLimitPolicySchema,
      /** "Send the verification link again": each call mails, so it is bounded like a reset request (mail bombing). */
      verificationResendPerAccount: rateLimitPolicySchema,
      /** Reset and verification pages asking what a link is before showing a form (one indexed read each). */
      oneTimeLinkLookupPerIp: rateLimitPolicySchema,
      /** IdP callbacks per client address (OIDC callback, SAML ACS): each one costs a token request. */
      ssoCallbackPerIp: rateLimitPolicySchema,
      /** DNS checks of an organization's domains: each one is an outbound query on the admin's behalf. */
      domainVerificationPerOrganization: rateLimitPolicySchema,
    }),
    sso: z.strictObject({
      /** How long a started SSO login may take at the IdP before its state is refused (and purged). */
      flowLifetimeSeconds: z.number().int().min(60).max(60 * 30),
      /** Tolerated clock difference with an IdP for `iat`/`exp`/`nbf` (openid-client's default is 30). */
      clockSkewSeconds: z.number().int().min(0).max(300),
      /** Per-instance cache of a connection's discovery document (also keyed by its `updated_at`). */
      discoveryCacheTtlSeconds: positiveSeconds,
      /** `organizations.sso_mfa_mode` of a new organization (ADR 014: require Gatehouse's MFA unless told otherwise). */
      defaultMfaMode: z.enum(['require_gatehouse_mfa', 'trust_idp_mfa']),
      /** node-saml `acceptedClockSkewMs` for NotBefore/NotOnOrAfter (node-saml's default is 0; -1, "skip time checks", is refused). */
      samlAcceptedClockSkewMs: z.number().int().min(0).max(5 * 60 * 1000),
      /** node-saml `maxAssertionAgeMs`: an assertion older than this after its IssueInstant is refused (0 would mean unbounded, refused). */
      samlMaxAssertionAgeMs: z.number().int().min(30 * 1000).max(60 * 60 * 1000),
      /** Largest SAML POST body the ACS reads before any parsing; larger answers 413. */
      samlMaxPostBytes: z.number().int().min(16 * 1024).max(4 * 1024 * 1024),
    }),
  })
  .superRefine((config, ctx) => {
    if (new Set(config.roles).size !== config.roles.length) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'roles must be unique' })
    }
    if (!config.roles.includes(config.defaultRole)) {
      ctx.addIssue({ code: 'custom', path: ['defaultRole'], message: 'defaultRole must be one of roles' })
    }
    const { session } = config
    if (session.renewalIntervalSeconds >= session.idleTimeoutSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['session', 'renewalIntervalSeconds'],
        message: 'renewal interval must be shorter than the idle timeout',
      })
    }
    if (session.idleTimeoutSeconds > session.absoluteLifetimeSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['session', 'idleTimeoutSeconds'],
        message: 'idle timeout cannot exceed the absolute lifetime',
      })
    }
    if (config.password.minLengthWithMfa > config.password.minLengthWithoutMfa) {
      ctx.addIssue({
        code: 'custom',
        path: ['password', 'minLengthWithMfa'],
        message: 'the MFA minimum cannot exceed the password-only minimum',
      })
    }
    if (config.lockout.maxFailuresPerKnownDevice > config.lockout.maxFailures) {
      ctx.addIssue({
        code: 'custom',
        path: ['lockout', 'maxFailuresPerKnownDevice'],
        message: 'a known device is exempt from the shared lock, not a bigger guessing budget: at most maxFailures',
      })
    }
    if (config.lockout.maxConsecutiveMfaFailures < config.mfa.maxAttemptsPerChallenge) {
      ctx.addIssue({
        code: 'custom',
        path: ['lockout', 'maxConsecutiveMfaFailures'],
        message: 'one challenge of typos must not block the second factor: at least mfa.maxAttemptsPerChallenge',
      })
    }
    if (config.password.minStrengthScoreWithMfa > config.password.minStrengthScoreWithoutMfa) {
      ctx.addIssue({
        code: 'custom',
        path: ['password', 'minStrengthScoreWithMfa'],
        message: 'the MFA strength minimum cannot exceed the password-only minimum',
      })
    }
  })

export type AppConfig = z.infer<typeof appConfigSchema>

/** Validates the configuration when `app.config.ts` is first imported; a bad value fails start-up loudly. */
export function defineConfig<const T extends AppConfig>(config: T): T {
  const result = appConfigSchema.safeParse(config)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
    throw new Error(`app.config.ts is invalid:\n${problems.join('\n')}`)
  }
  return config
}
