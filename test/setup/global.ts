/**
 * Vitest global setup: one run id for the whole run, shared with workers through `provide`;
 * at the end every database the run created is dropped.
 */
import { randomBytes } from 'node:crypto'
import type { TestProject } from 'vitest/node'
import { dropTestDatabases, getTestServerUrl } from './database'

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string
    testServerUrl: string
  }
}

export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
  const testServerUrl = await getTestServerUrl()
  project.provide('runId', runId)
  project.provide('testServerUrl', testServerUrl)
  return async () => {
    await dropTestDatabases(runId)
  }
}
