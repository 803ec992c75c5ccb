import { describe, expect, it } from 'vitest'
import { createOrganization } from '../../src/server/users/users'
import { getDb } from '../../src/server/db/client'
import { callerFor } from '../support/caller'

describe('system.info (public procedure, in-process caller)', () => {
  it('reads the database through the request context', async () => {
    const caller = callerFor()
    const before = await caller.system.info()
    expect(before).toMatchObject({ appName: 'Gatehouse', roles: ['member', 'admin', 'owner'] })

    await createOrganization(getDb(), { name: 'Acme', slug: `acme-${Date.now()}` })
    const after = await caller.system.info()
    expect(after.organizationCount).toBe(before.organizationCount + 1)
  })
})
