/**
 * The server entry Start builds into `dist/server/server.js`. Module evaluation validates the
 * environment, so a production process with a weak secret or plain-http URL dies before listening.
 */
import handler, { createServerEntry } from '@tanstack/react-start/server-entry'
import { getServerEnv } from './server/env'
import { startBackgroundJobs } from './server/jobs'

getServerEnv()
startBackgroundJobs()

export default createServerEntry({
  fetch: (request) => handler.fetch(request),
})
