/** Server-only: public, non-sensitive facts about the running app. */
import { sql } from 'drizzle-orm'
import appConfig from '../../../../app.config'
import { createTRPCRouter, publicProcedure } from '../init'

export const systemRouter = createTRPCRouter({
  /** What the home page shows before anyone signs in; also the bench's public procedure. */
  info: publicProcedure.query(async ({ ctx }) => {
    const [rows] = (await ctx.db.execute(sql`SELECT COUNT(*) AS organizations FROM organizations`)) as unknown as [
      Array<{ organizations: number | string }>,
    ]
    return {
      appName: appConfig.appName,
      roles: appConfig.roles,
      isSignUpEnabled: appConfig.signUp.isEnabled,
      organizationCount: Number(rows[0]?.organizations ?? 0),
    }
  }),
})
