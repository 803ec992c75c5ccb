/**
 * `npm run dev`: finds a database (SPEC §8 order), migrates it, seeds the demo, then runs the
 * Vite dev server with hot reload. Development only.
 */
import { spawn } from 'node:child_process'
import { getDb } from '../src/server/db/client'
import { migrateDatabase } from '../src/server/db/migrate'
import { DatabaseUnavailableError, resolveDatabaseUrl } from '../src/server/db/resolve-database'
import { resetServerEnvForTests } from '../src/server/env'
import { runShutdownHooks } from '../src/server/lifecycle'
import { DEMO_ACCOUNTS } from '../src/server/seed/demo-accounts'
import { seedDemo } from '../src/server/seed/seed-demo'

async function main(): Promise<void> {
  process.env.NODE_ENV = 'development'
  const port = process.env.PORT ?? '3000'
  process.env.APP_URL ??= `http://localhost:${port}`

  const { url, source } = await resolveDatabaseUrl('gatehouse')
  process.env.DATABASE_URL = url
  resetServerEnvForTests()
  const where = new URL(url)
  console.log(`[dev] database ${where.pathname.slice(1)} on ${where.host} (${source})`)

  await migrateDatabase(url)
  const seeded = await seedDemo(getDb())
  console.log(`[dev] demo seeded: +${seeded.organizations} organizations, +${seeded.users} users`)
  await runShutdownHooks()
  printWelcome(process.env.APP_URL)

  const vite = spawn('vite', ['dev', '--port', port], { stdio: 'inherit', env: process.env })
  const forward = (signal: NodeJS.Signals) => vite.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  vite.on('exit', (code) => process.exit(code ?? 0))
}

/** What a newcomer needs before the first click: where to go, whom to sign in as, where mail lands. */
function printWelcome(appUrl: string): void {
  const emailWidth = Math.max(...DEMO_ACCOUNTS.map((account) => account.email.length))
  const passwordWidth = Math.max(...DEMO_ACCOUNTS.map((account) => account.password.length))
  const lines = [
    '',
    `[dev] Gatehouse: ${appUrl} (once Vite below says it is ready)`,
    '[dev] demo accounts (the sign-in page fills them in with one click):',
    ...DEMO_ACCOUNTS.map((account) => `[dev]   ${account.email.padEnd(emailWidth)}  ${account.password.padEnd(passwordWidth)}  (${account.role})`),
    `[dev] mail (password reset, email verification): ${appUrl}/dev/outbox`,
    // npm checks "engines" against the system Node before the project's own Node 24 is on PATH.
    '[dev] npm EBADENGINE warnings during install on a system Node older than 22 are expected: npm runs',
    '[dev]   the app with the Node 24 the project brings (the pinned `node` devDependency).',
    '',
  ]
  console.log(lines.join('\n'))
}

main().catch((error) => {
  if (error instanceof DatabaseUnavailableError) console.error(`[dev] ${error.message}`)
  else console.error('[dev] failed to start:', error)
  process.exit(1)
})
