/**
 * `npm run dev`: finds a database (SPEC §8 order), migrates it, starts the local SAML IdP (Globex's,
 * scripts/idp/saml-idp.ts) on 127.0.0.1, seeds the demo (Globex's connection is imported from that
 * IdP's metadata URL), starts the local OIDC provider (Acme's IdP), then runs the Vite dev server
 * with hot reload. Development only.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { getDb } from '../src/server/db/client'
import { migrateDatabase } from '../src/server/db/migrate'
import { DatabaseUnavailableError, resolveDatabaseUrl } from '../src/server/db/resolve-database'
import { resetServerEnvForTests } from '../src/server/env'
import { runShutdownHooks } from '../src/server/lifecycle'
import { DEMO_ACCOUNTS, DEMO_ACME_OIDC } from '../src/server/seed/demo-accounts'
import { loadOrCreateDevSamlIdpKeys, startLocalSamlIdp } from './idp/saml-idp'
import { seedDemo } from '../src/server/seed/seed-demo'
import { loadOrCreateDevOidcSecrets, startLocalOidcProvider } from './idp/oidc-provider'

/** The local IdP's port: fixed, so the seeded issuer stays valid across restarts (override with DEV_OIDC_PORT). */
const DEFAULT_DEV_OIDC_PORT = 4010
/** The local SAML IdP's port: fixed for the same reason (its entity ID is its metadata URL); DEV_SAML_PORT overrides. */
const DEFAULT_DEV_SAML_PORT = 4011

async function main(): Promise<void> {
  process.env.NODE_ENV = 'development'
  const port = process.env.PORT ?? '3000'
  process.env.APP_URL ??= `http://localhost:${port}`
  const oidcPort = Number(process.env.DEV_OIDC_PORT ?? DEFAULT_DEV_OIDC_PORT)
  const samlPort = Number(process.env.DEV_SAML_PORT ?? DEFAULT_DEV_SAML_PORT)

  const { url, source } = await resolveDatabaseUrl('gatehouse')
  process.env.DATABASE_URL = url
  resetServerEnvForTests()
  const where = new URL(url)
  console.log(`[dev] database ${where.pathname.slice(1)} on ${where.host} (${source})`)

  await migrateDatabase(url)
  // Started before the seed: Globex's connection is imported from its metadata URL, as an admin would.
  const samlIdp = await startLocalSamlIdp({
    port: samlPort,
    host: '127.0.0.1',
    keys: loadOrCreateDevSamlIdpKeys('.data'),
    users: DEMO_ACCOUNTS.filter((account) => account.signInMethod === 'saml').map((account) => ({
      email: account.email,
      password: account.password,
      displayName: account.name,
      groups: account.idpGroups ?? [],
      nameId: `globex-${account.email.split('@')[0]}`,
    })),
  })
  console.log(`[dev] local SAML IdP (Globex) at ${samlIdp.metadataUrl}`)
  const oidcSecrets = await loadOrCreateDevOidcSecrets(resolve('.data'))
  const oidcIssuer = `http://127.0.0.1:${oidcPort}`
  const seeded = await seedDemo(getDb(), {
    oidcProvider: { issuer: oidcIssuer, clientSecret: oidcSecrets.clientSecret },
    samlIdp: { metadataUrl: samlIdp.metadataUrl, entityId: samlIdp.entityId, certificatePem: samlIdp.certificatePem },
  })
  console.log(`[dev] demo seeded: +${seeded.organizations} organizations, +${seeded.users} users`)
  await runShutdownHooks()
  printWelcome(process.env.APP_URL)

  const idp = await startLocalOidcProvider({
    port: oidcPort,
    keys: oidcSecrets,
    clients: [
      {
        clientId: DEMO_ACME_OIDC.clientId,
        clientSecret: oidcSecrets.clientSecret,
        redirectUris: seeded.acmeConnectionId ? [new URL(`/api/auth/oidc/${seeded.acmeConnectionId}/callback`, process.env.APP_URL).href] : [],
      },
    ],
    users: DEMO_ACCOUNTS.filter((account) => account.signInMethod === 'oidc').map((account) => ({
      sub: `demo-${account.email.split('@')[0]}`,
      email: account.email,
      password: account.password,
      name: account.name,
      groups: account.idpGroups ?? [],
    })),
  })
  console.log(`[dev] local OIDC provider (Acme) at ${idp.issuer}`)

  const vite = spawn('vite', ['dev', '--port', port], { stdio: 'inherit', env: process.env })
  const forward = (signal: NodeJS.Signals) => vite.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  vite.on('exit', async (code) => {
    await Promise.all([idp.stop(), samlIdp.stop()])
    process.exit(code ?? 0)
  })
}

/** What a newcomer needs before the first click: where to go, whom to sign in as, where mail lands. */
function printWelcome(appUrl: string): void {
  const emailWidth = Math.max(...DEMO_ACCOUNTS.map((account) => account.email.length))
  const passwordWidth = Math.max(...DEMO_ACCOUNTS.map((account) => account.password.length))
  const lines = [
    '',
    `[dev] Gatehouse: ${appUrl} (once Vite below says it is ready)`,
    '[dev] demo accounts (one click on the sign-in page; SSO accounts continue to the local IdP):',
    ...DEMO_ACCOUNTS.map(
      (account) =>
        `[dev]   ${account.email.padEnd(emailWidth)}  ${account.password.padEnd(passwordWidth)}  (${account.role}${account.signInMethod === 'password' ? '' : `; ${account.signInMethod.toUpperCase()} SSO, password at the IdP`})`,
    ),
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
