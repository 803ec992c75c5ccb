/**
 * The server entry Start builds into `dist/server/server.js` and runs in development too. Module
 * evaluation validates the environment, so a production process with a weak secret or plain-http
 * URL dies before listening. Every request then passes the one request pipeline.
 */
import handler, { createServerEntry } from '@tanstack/react-start/server-entry'
import { parsePreviousAppSecrets } from './server/crypto/secret-box'
import { getServerEnv } from './server/env'
import { handleRequest } from './server/request-pipeline'
import { startBackgroundJobs } from './server/jobs'

getServerEnv()
// Old secrets kept for key rotation must meet the same bar; a typo should stop the deploy, not the first MFA sign-in.
parsePreviousAppSecrets(process.env.APP_SECRET_PREVIOUS)
startBackgroundJobs()

const serveWithStart = (request: Request) => handler.fetch(request)

export default createServerEntry({
  fetch: (request) => handleRequest(request, serveWithStart),
})
