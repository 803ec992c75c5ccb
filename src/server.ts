/**
 * The server entry Start builds into `dist/server/server.js`. Module evaluation validates the
 * environment, so a production process with a weak secret or plain-http URL dies before listening.
 */
import handler, { createServerEntry } from '@tanstack/react-start/server-entry'
import { parsePreviousAppSecrets } from './server/crypto/secret-box'
import { getServerEnv } from './server/env'
import { startBackgroundJobs } from './server/jobs'

getServerEnv()
// Old secrets kept for key rotation must meet the same bar; a typo should stop the deploy, not the first MFA sign-in.
parsePreviousAppSecrets(process.env.APP_SECRET_PREVIOUS)
startBackgroundJobs()

export default createServerEntry({
  fetch: (request) => handler.fetch(request),
})
