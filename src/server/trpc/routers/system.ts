/** Server-only: public, non-sensitive facts about the running app. */
import { sql } from 'drizzle-orm'
import appConfig from '../../../../app.config'
import { createTRPCRouter, publicProcedure } from '../init'

export const systemRouter = createTRPCRouter({
  /**
   * Facts anyone may know, and one database round trip (the bench's public procedure, sized like
   * `auth.me`). Nothing about tenants: an organization count told strangers how many customers
   * the deployment has (found by an independent review).
   */
  info: publicProcedure.query(async ({ ctx }) => {
    const [rows] = (await ctx.db.execute(sql`SELECT 1 AS answered`)) as unknown as [Array<{ answered: number | string }>]
    return {
      appName: appConfig.appName,
      roles: appConfig.roles,
      isSignUpEnabled: appConfig.signUp.isEnabled,
      isDatabaseReachable: Number(rows[0]?.answered) === 1,
    }
  }),
})
