/**
 * The guard matrix: EVERY procedure of `appRouter`, called as every kind of caller, answers as the
 * expectation table says. The list of procedures comes from the router itself, so a procedure
 * added without a row in the table fails this file — nobody ships an unguarded endpoint by
 * forgetting to think about it (broken access control, OWASP A01 / API5). The guide's example
 * router (docs/examples, mounted in tests only) goes through the same matrix with its own table.
 *
 * To add a procedure: give it a row in PROCEDURES with its access kind and, when it takes input,
 * a syntactically valid dummy input (so the guard, not zod, is what answers).
 */
import { describe, expect, it } from 'vitest'
import { TRPCError } from '@trpc/server'
import type { AppErrorCode } from '../../src/lib/app-errors'
import type { Role } from '../../src/lib/roles'
import { createCallerFactory } from '../../src/server/trpc/init'
import { appRouter } from '../../src/server/trpc/root'
import { guideExampleRouter } from '../../docs/examples/profile-router'
import { callerFor, testRequestContext, type CallerOptions } from '../support/caller'
import { createTestOrganization, createTestUser, nextTestIp, sessionCookieHeader, signedInCaller, sql, tableChecksums } from '../support/auth-fixtures'
import { catchTrpcError } from '../support/trpc-errors'

/**
 * - public: anyone, signed in or not.
 * - protected: a fully authenticated session (MFA satisfied or not required).
 * - sensitive: protected + a re-authentication within `reauthWindowSeconds`.
 * - admin: protected + role ≥ admin (read from the database on every call).
 * - mfaPending: only a session that has passed the password step and owes its second factor.
 * - mfaEnrollment: signed in, possibly forced by policy to enroll; never a pending session.
 * - mfaEnrollmentSensitive: mfaEnrollment + a recent re-authentication, except for a session that
 *   policy forces to enroll (it can do nothing else, not even re-authenticate).
 * - adminSensitive: admin + a recent re-authentication.
 * - owner: protected + role ≥ owner (`roleProcedure('owner')`).
 * - ownerSensitive: owner + a recent re-authentication (SSO enforcement).
 */
type Access = 'public' | 'protected' | 'sensitive' | 'admin' | 'adminSensitive' | 'owner' | 'ownerSensitive' | 'mfaPending' | 'mfaEnrollment' | 'mfaEnrollmentSensitive'

type ProcedureExpectation = {
  access: Access
  /** A syntactically valid input, for procedures that take one. */
  input?: unknown
  /** Where a handler (not a guard) legitimately answers with a guard-like code for a persona. */
  handlerAnswers?: Partial<Record<PersonaName, AppErrorCode>>
}

const DUMMY_ID = 'a'.repeat(26)

/** Every procedure, by path, grouped by router: a new router's rows go in a block of their own. */
const PROCEDURES: Record<string, ProcedureExpectation> = {
  'system.info': { access: 'public' },

  'auth.me': { access: 'public' },
  'auth.beginSignIn': { access: 'public', input: { email: 'nobody@example.test' } },
  'auth.signIn': { access: 'public', input: { email: 'nobody@example.test', password: 'not the right password' } },
  // A too-short password: refused by policy after the (absent) guard, so no account is created.
  'auth.signUp': { access: 'public', input: { email: 'guard-matrix@example.test', password: 'short', name: 'Matrix' } },
  'auth.signOut': { access: 'public' },
  'auth.reauthenticate': { access: 'protected', input: { password: 'not the right password' } },
  // Only SSO sessions may step up at the IdP: the handler refuses every password session here.
  'auth.beginSsoReauthentication': {
    access: 'protected',
    input: {},
    handlerAnswers: { member: 'FORBIDDEN', staleMember: 'FORBIDDEN', admin: 'FORBIDDEN', staleAdmin: 'FORBIDDEN', owner: 'FORBIDDEN', staleOwner: 'FORBIDDEN', mfaSatisfiedAdmin: 'FORBIDDEN' },
  },
  'auth.requestPasswordReset': { access: 'public', input: { email: 'nobody@example.test' } },
  'auth.resetPassword': { access: 'public', input: { token: 'not-a-real-token', password: 'some new passphrase here' } },
  'auth.verifyEmail': { access: 'public', input: { token: 'not-a-real-token' } },
  'auth.describeOneTimeLink': { access: 'public', input: { token: 'not-a-real-token', purpose: 'password_reset' } },
  'auth.resendVerificationEmail': { access: 'protected' },

  'account.changePassword': { access: 'sensitive', input: { currentPassword: 'not the right password', newPassword: 'a brand new passphrase' } },

  'sessions.list': { access: 'protected' },
  'sessions.revoke': { access: 'protected', input: { id: DUMMY_ID } },
  'sessions.revokeOthers': { access: 'protected' },

  'admin.users.list': { access: 'admin' },
  'admin.users.revokeSessions': { access: 'admin', input: { userId: DUMMY_ID } },
  'admin.users.resetMfa': { access: 'adminSensitive', input: { userId: DUMMY_ID } },
  'admin.users.setRole': { access: 'adminSensitive', input: { userId: DUMMY_ID, role: 'member' } },
  'admin.users.setDisabled': { access: 'adminSensitive', input: { userId: DUMMY_ID, isDisabled: true } },
  'admin.audit.list': { access: 'admin', input: {} },

  'organization.getMfaPolicy': { access: 'admin' },
  'organization.getSsoPolicy': { access: 'admin' },
  'organization.setSsoPolicy': { access: 'ownerSensitive', input: { isEnforced: false, breakGlassUserId: null, mfaMode: 'require_gatehouse_mfa' } },
  'organization.domains.list': { access: 'admin' },
  'organization.domains.add': { access: 'admin', input: { domain: 'guard-matrix.test' } },
  'organization.domains.verify': { access: 'admin', input: { domain: 'not-claimed.test' } },
  'organization.domains.route': { access: 'adminSensitive', input: { domain: 'not-claimed.test', connectionId: null } },
  'organization.domains.remove': { access: 'adminSensitive', input: { domain: 'not-claimed.test' } },
  'organization.sso.list': { access: 'admin' },
  'organization.sso.get': { access: 'admin', input: { connectionId: DUMMY_ID } },
  'organization.sso.createOidc': {
    access: 'adminSensitive',
    input: { displayName: 'Matrix IdP', issuer: 'http://127.0.0.1:9/oidc', clientId: 'matrix-client', clientSecret: 'matrix-client-secret-value' },
  },
  'organization.sso.update': { access: 'adminSensitive', input: { connectionId: DUMMY_ID, displayName: 'Matrix IdP', issuer: 'http://127.0.0.1:9/oidc', clientId: 'matrix-client' } },
  'organization.sso.createSaml': {
    access: 'adminSensitive',
    input: { displayName: 'Matrix SAML', idp: { kind: 'manual', entityId: 'https://idp.example.test', ssoUrl: 'https://idp.example.test/sso', certificates: ['not a certificate'] } },
  },
  'organization.sso.updateSaml': { access: 'adminSensitive', input: { connectionId: DUMMY_ID, displayName: 'Matrix SAML' } },
  'organization.sso.addSamlCertificate': { access: 'adminSensitive', input: { connectionId: DUMMY_ID, certificate: 'not a certificate' } },
  'organization.sso.removeSamlCertificate': { access: 'adminSensitive', input: { connectionId: DUMMY_ID, fingerprintSha256: Array(32).fill('AB').join(':') } },
  'organization.sso.setEnabled': { access: 'adminSensitive', input: { connectionId: DUMMY_ID, isEnabled: false } },
  'organization.sso.delete': { access: 'adminSensitive', input: { connectionId: DUMMY_ID } },
  'organization.sso.startTest': { access: 'admin', input: { connectionId: DUMMY_ID } },
  'organization.sso.getTestResult': { access: 'admin', input: { connectionId: DUMMY_ID } },
  'organization.sso.setIdpInitiated': { access: 'ownerSensitive', input: { connectionId: DUMMY_ID, isAllowed: true } },
  'organization.setMfaPolicy': { access: 'adminSensitive', input: { policy: 'optional' } },

  'mfa.status': { access: 'mfaEnrollment' },
  'mfa.beginEnrollment': { access: 'mfaEnrollmentSensitive' },
  'mfa.confirmEnrollment': { access: 'mfaEnrollment', input: { code: '123456' } },
  'mfa.verify': { access: 'mfaPending', input: { code: '123456' } },
  'mfa.useRecoveryCode': { access: 'mfaPending', input: { code: 'abcde-fghij' } },
  'mfa.regenerateRecoveryCodes': { access: 'sensitive' },
  'mfa.disable': { access: 'sensitive', input: { currentPassword: 'not the right password' } },

  // Public in development and test; answers NOT_FOUND in production (tested with the mail work).
  'dev.outbox': { access: 'public' },
}

/** The guide's example router (docs/examples/profile-router.ts): the rows a developer following it adds. */
const GUIDE_EXAMPLE_PROCEDURES: Record<string, ProcedureExpectation> = {
  'profile.me': { access: 'protected' },
  'profile.rename': { access: 'sensitive', input: { name: 'Matrix' } },
  'team.members': { access: 'admin' },
  'team.rename': { access: 'adminSensitive', input: { name: 'Matrix' } },
}

/**
 * Who calls. "stale" sessions re-authenticated longer ago than `reauthWindowSeconds` (one per role,
 * so a sensitive builder swapped for a plain one fails at every role); the MFA personas are
 * admins, so an admin procedure proves the MFA guard comes before the role check.
 */
const PERSONAS = ['anonymous', 'member', 'staleMember', 'admin', 'staleAdmin', 'owner', 'staleOwner', 'mfaSatisfiedAdmin', 'mfaPendingAdmin', 'enrollmentRequiredAdmin'] as const
type PersonaName = (typeof PERSONAS)[number]

const GUARD_CODES: readonly AppErrorCode[] = ['UNAUTHENTICATED', 'MFA_REQUIRED', 'MFA_ENROLLMENT_REQUIRED', 'FORBIDDEN', 'REAUTH_REQUIRED']

type Outcome = 'passes' | AppErrorCode

/** What each guard answers to each persona. `passes` = the guard lets the call through. */
const PASSES_EVERYONE: Record<PersonaName, Outcome> = {
  anonymous: 'passes', member: 'passes', staleMember: 'passes', admin: 'passes', staleAdmin: 'passes', owner: 'passes', staleOwner: 'passes',
  mfaSatisfiedAdmin: 'passes', mfaPendingAdmin: 'passes', enrollmentRequiredAdmin: 'passes',
}
const PROTECTED: Record<PersonaName, Outcome> = {
  ...PASSES_EVERYONE, anonymous: 'UNAUTHENTICATED', mfaPendingAdmin: 'MFA_REQUIRED', enrollmentRequiredAdmin: 'MFA_ENROLLMENT_REQUIRED',
}
const ADMIN: Record<PersonaName, Outcome> = { ...PROTECTED, member: 'FORBIDDEN', staleMember: 'FORBIDDEN' }
const OWNER: Record<PersonaName, Outcome> = { ...ADMIN, admin: 'FORBIDDEN', staleAdmin: 'FORBIDDEN', mfaSatisfiedAdmin: 'FORBIDDEN' }
const MFA_ENROLLMENT: Record<PersonaName, Outcome> = { ...PASSES_EVERYONE, anonymous: 'UNAUTHENTICATED', mfaPendingAdmin: 'MFA_REQUIRED' }
/** A sensitive builder: the same, plus REAUTH_REQUIRED for every stale session it would let through. */
const STALE = { staleMember: 'REAUTH_REQUIRED', staleAdmin: 'REAUTH_REQUIRED', staleOwner: 'REAUTH_REQUIRED' } as const
function sensitive(outcomes: Record<PersonaName, Outcome>): Record<PersonaName, Outcome> {
  const stale = Object.fromEntries(Object.entries(STALE).filter(([persona]) => outcomes[persona as PersonaName] === 'passes'))
  return { ...outcomes, ...stale }
}

/** What each guard answers to each persona. `passes` = the guard lets the call through. */
const GUARD_OUTCOMES: Record<Access, Record<PersonaName, Outcome>> = {
  public: PASSES_EVERYONE,
  protected: PROTECTED,
  sensitive: sensitive(PROTECTED),
  admin: ADMIN,
  adminSensitive: sensitive(ADMIN),
  owner: OWNER,
  ownerSensitive: sensitive(OWNER),
  mfaPending: {
    anonymous: 'UNAUTHENTICATED', member: 'FORBIDDEN', staleMember: 'FORBIDDEN', admin: 'FORBIDDEN', staleAdmin: 'FORBIDDEN', owner: 'FORBIDDEN',
    staleOwner: 'FORBIDDEN', mfaSatisfiedAdmin: 'FORBIDDEN', mfaPendingAdmin: 'passes', enrollmentRequiredAdmin: 'FORBIDDEN',
  },
  mfaEnrollment: MFA_ENROLLMENT,
  mfaEnrollmentSensitive: sensitive(MFA_ENROLLMENT),
}

type PersonaSpec = { role: Role; mfaPolicy: 'optional' | 'required'; isMfaEnabled: boolean; isMfaSatisfied: boolean; isReauthStale: boolean }

const base: PersonaSpec = { role: 'member', mfaPolicy: 'optional', isMfaEnabled: false, isMfaSatisfied: false, isReauthStale: false }

const PERSONA_SPECS: Record<Exclude<PersonaName, 'anonymous'>, PersonaSpec> = {
  member: base,
  staleMember: { ...base, isReauthStale: true },
  admin: { ...base, role: 'admin' },
  staleAdmin: { ...base, role: 'admin', isReauthStale: true },
  owner: { ...base, role: 'owner' },
  staleOwner: { ...base, role: 'owner', isReauthStale: true },
  mfaSatisfiedAdmin: { ...base, role: 'admin', isMfaEnabled: true, isMfaSatisfied: true },
  mfaPendingAdmin: { ...base, role: 'admin', isMfaEnabled: true },
  enrollmentRequiredAdmin: { ...base, role: 'admin', mfaPolicy: 'required' },
}

/**
 * How the persona's requests present themselves (a session cookie, a client address): a fresh
 * organization, user and session for every call, so no call's side effects (signOut,
 * revokeOthers, mfa.disable, a policy change, a lockout count) leak into the next.
 */
async function requestOptionsAs(persona: PersonaName): Promise<CallerOptions> {
  if (persona === 'anonymous') return { ip: nextTestIp() }
  const spec = PERSONA_SPECS[persona]
  const organization = await createTestOrganization({ mfaPolicy: spec.mfaPolicy })
  const { user } = await createTestUser({ role: spec.role, organizationId: organization.id, isMfaEnabled: spec.isMfaEnabled })
  const ip = nextTestIp()
  const { token } = await signedInCaller(user, { ip, isMfaSatisfied: spec.isMfaSatisfied, isReauthStale: spec.isReauthStale })
  // Follows rotated cookies as a browser does (a step-up or an MFA change rotates the token).
  return { ip, cookie: sessionCookieHeader(token), followCookies: true }
}

/** A caller of `appRouter` for the persona. */
async function callerAs(persona: PersonaName) {
  return callerFor(await requestOptionsAs(persona))
}

type RouterUnderTest = {
  name: string
  paths: string[]
  table: Record<string, ProcedureExpectation>
  procedureInputs: (path: string) => unknown[]
  callerFor: (options: CallerOptions) => unknown
}

function routerUnderTest(name: string, router: typeof appRouter | typeof guideExampleRouter, table: Record<string, ProcedureExpectation>, callerFor: (options: CallerOptions) => unknown): RouterUnderTest {
  const procedures = router._def.procedures as unknown as Record<string, { _def: { inputs: unknown[] } }>
  return { name, paths: Object.keys(procedures).sort(), table, procedureInputs: (path) => procedures[path]!._def.inputs, callerFor }
}

const createGuideExampleCaller = createCallerFactory(guideExampleRouter)

const ROUTERS: RouterUnderTest[] = [
  routerUnderTest('appRouter', appRouter, PROCEDURES, (options) => callerFor(options)),
  routerUnderTest('guideExampleRouter', guideExampleRouter, GUIDE_EXAMPLE_PROCEDURES, (options) => createGuideExampleCaller(testRequestContext(options))),
]

/** Calls `path` on a caller the way the client would (`caller.a.b.c(input)`). */
function callByPath(caller: unknown, path: string, input: unknown): Promise<unknown> {
  const procedure = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller)
  return (procedure as (input: unknown) => Promise<unknown>)(input)
}

/** The guard's answer: `passes` if the call succeeded or failed for a non-guard reason. */
async function observe(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call
    return 'passes'
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error
    // A crash is never an acceptable answer, for anyone.
    expect(error.code, `unexpected ${error.code}: ${error.message}`).not.toBe('INTERNAL_SERVER_ERROR')
    const caught = await catchTrpcError(Promise.reject(error))
    // A BAD_REQUEST without an app code is zod's: the dummy input is wrong, the guard untested.
    expect({ code: caught.code, appCode: caught.appCode }, `zod refused the dummy input: ${error.message}`).not.toEqual({ code: 'BAD_REQUEST', appCode: null })
    return caught.appCode && GUARD_CODES.includes(caught.appCode) ? caught.appCode : 'passes'
  }
}

describe.each(ROUTERS)('the expectation table covers $name exactly', ({ paths, table, procedureInputs }) => {
  it('every procedure has a row (a new procedure cannot slip in unguarded)', () => {
    const missing = paths.filter((path) => !(path in table))
    expect(missing, `add these to the table for this router in ${import.meta.filename}`).toEqual([])
  })

  it('every row names a procedure that exists (the table does not rot)', () => {
    expect(Object.keys(table).filter((path) => !paths.includes(path))).toEqual([])
  })

  it('procedures that take input have a dummy input, and those that do not have none', () => {
    for (const path of paths) {
      const takesInput = procedureInputs(path).length > 0
      expect(table[path]?.input !== undefined, `${path}: takes input = ${takesInput}`).toBe(takesInput)
    }
  })
})

describe('the nothing-written check can fail', () => {
  it('a single-column update changes the table fingerprint', async () => {
    const caller = await callerAs('member')
    const before = await tableChecksums()
    await caller.auth.me()
    expect(await tableChecksums()).toEqual(before)
    await sql('UPDATE sessions SET mfa_failed_attempts = mfa_failed_attempts + 1 ORDER BY created_at DESC LIMIT 1')
    expect(await tableChecksums()).not.toEqual(before)
  })
})

const MATRIX_CELLS = ROUTERS.flatMap((router) => router.paths.map((path) => ({ router, path })))

describe.each(MATRIX_CELLS)('$path', ({ router, path }) => {
  it.each(PERSONAS)('as %s', async (persona) => {
    const expectation = router.table[path]
    if (!expectation) throw new Error(`${path} has no row in the table for ${router.name}`)
    const expected = expectation.handlerAnswers?.[persona] ?? GUARD_OUTCOMES[expectation.access][persona]
    const caller = router.callerFor(await requestOptionsAs(persona))
    const before = await tableChecksums()
    const outcome = await observe(callByPath(caller, path, expectation.input))
    expect(outcome).toBe(expected)
    // A refusal by a guard writes nothing: no row inserted, updated or deleted anywhere.
    if (outcome !== 'passes') expect(await tableChecksums()).toEqual(before)
  })
})

describe('guard codes map to the statuses the client switches on', () => {
  it('anonymous gets UNAUTHORIZED (401); a member on an admin procedure gets FORBIDDEN (403)', async () => {
    const anonymous = await catchTrpcError(callerFor({ ip: nextTestIp() }).sessions.list())
    expect(anonymous).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'UNAUTHENTICATED' })
    const member = await catchTrpcError((await callerAs('member')).admin.users.list())
    expect(member).toMatchObject({ code: 'FORBIDDEN', appCode: 'FORBIDDEN' })
    const pending = await catchTrpcError((await callerAs('mfaPendingAdmin')).sessions.list())
    expect(pending).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'MFA_REQUIRED' })
    const enrolling = await catchTrpcError((await callerAs('enrollmentRequiredAdmin')).sessions.list())
    expect(enrolling).toMatchObject({ code: 'FORBIDDEN', appCode: 'MFA_ENROLLMENT_REQUIRED' })
  })

  it('auth.me tells a pending session only that a code is due, and an enrolling one that it must enroll', async () => {
    expect(await (await callerAs('mfaPendingAdmin')).auth.me()).toEqual({ status: 'mfa-pending' })
    expect(await (await callerAs('enrollmentRequiredAdmin')).auth.me()).toMatchObject({ status: 'mfa-enrollment-required' })
    expect(await (await callerAs('mfaSatisfiedAdmin')).auth.me()).toMatchObject({ status: 'signed-in', user: { isMfaEnabled: true } })
  })
})
