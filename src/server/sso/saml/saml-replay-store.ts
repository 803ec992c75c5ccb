/**
 * Server-only: the SAML replay store (`sso_consumed_assertions`, ADR 015). node-saml keeps no
 * memory of the assertions it accepted, so the same signed response POSTed twice (by an attacker
 * who saw it in a browser history, a proxy log or a HAR file) would validate twice. The ACS records
 * every accepted assertion ID under a unique (connection, assertion ID) index: the second INSERT
 * fails on any instance, even when both POSTs arrive at the same moment (SAML Profiles §4.1.4.5,
 * "the service provider MUST ensure that bearer assertions are not replayed").
 */
import { lt } from 'drizzle-orm'
import { ssoConsumedAssertions } from '../../../../db/schema'
import type { Database } from '../../db/client'
import { generateId } from '../../ids'
import { isDuplicateKeyError } from '../../users/users'

/**
 * Records an assertion as consumed until `notOnOrAfter` plus the clock skew; false when this
 * connection already consumed it (a replay). Atomic: the database's unique index decides.
 */
export async function recordConsumedSamlAssertion(
  deps: { db: Database; now: Date },
  input: { connectionId: string; assertionId: string; notOnOrAfter: Date; clockSkewMs: number },
): Promise<boolean> {
  try {
    await deps.db.insert(ssoConsumedAssertions).values({
      id: generateId(),
      connectionId: input.connectionId,
      assertionId: input.assertionId,
      consumedAt: deps.now,
      expiresAt: new Date(Math.max(input.notOnOrAfter.getTime(), deps.now.getTime()) + input.clockSkewMs),
    })
    return true
  } catch (error) {
    if (isDuplicateKeyError(error)) return false
    throw error
  }
}

/** Deletes replay-store rows whose assertions can no longer validate; run on a schedule by every instance. */
export async function purgeExpiredSsoConsumedAssertions(db: Database, now: Date): Promise<number> {
  const [result] = await db.delete(ssoConsumedAssertions).where(lt(ssoConsumedAssertions.expiresAt, now))
  return result.affectedRows
}
