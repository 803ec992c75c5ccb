/**
 * Server-only: settings of the admin's own organization (SPEC §5, §6). Scoped by the caller's
 * organization id read from the database, never by an id in the input, so an admin of org A
 * cannot touch org B (BOLA / OWASP API1).
 */
import { eq } from 'drizzle-orm'
import { z } from 'zod'
import appConfig from '../../../../app.config'
import { MFA_POLICIES, organizations } from '../../../../db/schema'
import { getMfaState } from '../../auth/mfa-policy'
import { appError } from '../../errors'
import { setSsoPolicy, toSsoPolicy } from '../../sso/sso-policy'
import { adminProcedure, adminSensitiveProcedure, createTRPCRouter, ownerSensitiveProcedure } from '../init'
import { idInputSchema } from '../inputs'
import { organizationDomainsRouter, organizationSsoRouter } from './organization-sso'

const roleSchema = z.enum(appConfig.roles)

/** `minRole` is meaningful (and then required) only for `required_for_role`. */
const mfaPolicyInputSchema = z
  .strictObject({ policy: z.enum(MFA_POLICIES), minRole: roleSchema.nullish() })
  .superRefine((input, ctx) => {
    if (input.policy === 'required_for_role' && !input.minRole) {
      ctx.addIssue({ code: 'custom', path: ['minRole'], message: 'Choose the lowest role that must use two-factor authentication' })
    }
  })

const ssoPolicyInputSchema = z.strictObject({
  isEnforced: z.boolean(),
  breakGlassUserId: idInputSchema.nullable(),
  mfaMode: z.enum(['require_gatehouse_mfa', 'trust_idp_mfa']),
})

export const organizationRouter = createTRPCRouter({
  domains: organizationDomainsRouter,
  sso: organizationSsoRouter,

  /** Whether SSO is mandatory, who the break-glass owner is, and whether the IdP's MFA is trusted. */
  getSsoPolicy: adminProcedure.query(async ({ ctx }) => {
    if (!ctx.user.organizationId) throw appError('NOT_FOUND')
    const [organization] = await ctx.db.select().from(organizations).where(eq(organizations.id, ctx.user.organizationId)).limit(1)
    if (!organization) throw appError('NOT_FOUND')
    return toSsoPolicy(organization)
  }),

  /**
   * Owner only, after re-authentication: makes SSO mandatory for the organization's verified
   * domains (every precondition checked, other members' password sessions revoked), names the
   * break-glass owner, and chooses whether the IdP's MFA is trusted.
   */
  setSsoPolicy: ownerSensitiveProcedure.input(ssoPolicyInputSchema).mutation(({ ctx, input }) => {
    if (!ctx.user.organizationId) throw appError('NOT_FOUND')
    return setSsoPolicy(
      { db: ctx.db, now: ctx.now, actor: { actorUserId: ctx.user.id, ip: ctx.clientIp, userAgent: ctx.userAgent } },
      { organizationId: ctx.user.organizationId, actingUser: { userId: ctx.user.id, authMethod: ctx.session.authMethod } },
      input,
    )
  }),

  /** The organization's MFA policy. */
  getMfaPolicy: adminProcedure.query(({ ctx }) => {
    if (!ctx.organization) throw appError('NOT_FOUND')
    return { policy: ctx.organization.mfaPolicy, minRole: ctx.organization.mfaRequiredMinRole ?? null }
  }),

  /**
   * Changes the MFA policy (a sensitive change: re-authentication required). It applies on every
   * member's next request: sessions without a factor that the policy now demands are sent to
   * enrollment by the guards. An admin who would themselves be forced into enrollment must turn
   * MFA on first, so the change cannot strand them halfway through the console.
   */
  setMfaPolicy: adminSensitiveProcedure
    .input(mfaPolicyInputSchema)
    .mutation(async ({ ctx, input }) => {
      const organization = ctx.organization
      if (!organization) throw appError('NOT_FOUND')
      const minRole = input.policy === 'required_for_role' ? (input.minRole ?? null) : null
      const next = { ...organization, mfaPolicy: input.policy, mfaRequiredMinRole: minRole }
      if (getMfaState(ctx.session, ctx.user, next) === 'enrollment_required') {
        throw appError('FORBIDDEN', 'Turn on two-factor authentication for your own account before requiring it.')
      }
      await ctx.db.update(organizations).set({ mfaPolicy: input.policy, mfaRequiredMinRole: minRole }).where(eq(organizations.id, organization.id))
      await ctx.audit('organization.mfa_policy_changed', {
        actorUserId: ctx.user.id,
        organizationId: organization.id,
        details: {
          previous: { policy: organization.mfaPolicy, minRole: organization.mfaRequiredMinRole },
          policy: input.policy,
          minRole,
        },
      })
      return { policy: input.policy, minRole }
    }),
})
