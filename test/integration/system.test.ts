import { describe, expect, it } from 'vitest'
import { callerFor } from '../support/caller'

describe('system.info (public procedure, in-process caller)', () => {
  it('answers public facts through the request context’s database, and nothing about tenants', async () => {
    const info = await callerFor().system.info()
    expect(info).toEqual({ appName: 'Gatehouse', roles: ['member', 'admin', 'owner'], isSignUpEnabled: expect.any(Boolean), isDatabaseReachable: true })
  })
})
