// docs/examples/profile-router.ts
/**
 * Server-only: the guide's example router (docs/guide.md). It is built with the real procedure
 * builders but mounted only by its tests, never in the app's `appRouter`:
 * test/integration/guide-examples.test.ts calls it directly, and test/e2e/guide-example-page.test.ts
 * registers it in root.ts of a copy of the project, as section 2 of the guide says.
 */
import { eq } from 'drizzle-orm'
import { z } from 'zod'
import { organizations, users } from '../../db/schema'
import { appError } from '../../src/server/errors'
import { adminSensitiveProcedure, createTRPCRouter, protectedProcedure, roleProcedure, sensitiveProcedure } from '../../src/server/trpc/init'

const nameSchema = z.string().trim().min(1).max(120)

export const profileRouter = createTRPCRouter({
  // Any fully signed-in user: ctx.user and ctx.session are non-null here.
  me: protectedProcedure.query(({ ctx }) => ({
    name: ctx.user.name,
    role: ctx.user.role,
    // null for a user who belongs to no organization.
    organizationName: ctx.organization?.name ?? null,
  })),

  // A change that deserves a fresh re-authentication: REAUTH_REQUIRED when it is too old.
  rename: sensitiveProcedure.input(z.strictObject({ name: nameSchema })).mutation(async ({ ctx, input }) => {
    await ctx.db.update(users).set({ name: input.name, updatedAt: ctx.now }).where(eq(users.id, ctx.user.id))
    return { name: input.name }
  }),
})

export const teamRouter = createTRPCRouter({
  // At least `admin` (the order of `roles` in app.config.ts); the role is read from the database this request.
  members: roleProcedure('admin').query(async ({ ctx }) => {
    if (!ctx.organization) return []
    return ctx.db
      .select({ id: users.id, name: users.name, role: users.role })
      .from(users)
      .where(eq(users.organizationId, ctx.organization.id))
  }),

  // An admin who re-authenticated recently; scoped by the caller's own organization, never by input.
  // The app's own admin changes also write an audit event (`ctx.audit(type, …)`, ADR 007).
  rename: adminSensitiveProcedure.input(z.strictObject({ name: nameSchema })).mutation(async ({ ctx, input }) => {
    if (!ctx.organization) throw appError('FORBIDDEN')
    await ctx.db
      .update(organizations)
      .set({ name: input.name })
      .where(eq(organizations.id, ctx.organization.id))
    return { name: input.name }
  }),
})

/** In the app these two lines go into `createTRPCRouter({ ... })` in src/server/trpc/root.ts. */
export const guideExampleRouter = createTRPCRouter({ profile: profileRouter, team: teamRouter })

export type GuideExampleRouter = typeof guideExampleRouter
