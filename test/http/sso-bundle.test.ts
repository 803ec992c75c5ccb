/**
 * The local OIDC provider (scripts/idp, `oidc-provider` with its test-only fault switch) and the
 * local SAML IdP (scripts/idp/saml-idp.ts, on xml-crypto) are development and test tooling: nothing
 * of them may ship. Scans the whole production build, server and client, for their markers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const DIST = resolve(import.meta.dirname, '../../dist')

function readAll(directory: string): string {
  return readdirSync(directory)
    .map((entry) => join(directory, entry))
    .map((path) => (statSync(path).isDirectory() ? readAll(path) : /\.(m?js|cjs|html)$/.test(path) ? readFileSync(path, 'utf8') : ''))
    .join('\n')
}

describe('production build', () => {
  it('contains no local-IdP code', () => {
    const build = readAll(DIST)
    expect(build.length).toBeGreaterThan(1000)
    for (const marker of ['oidc-provider', 'startLocalOidcProvider', 'signInAtLocalIdp', 'interactionFinished', 'OIDC fault injection', 'dev-oidc-provider.json', 'startLocalSamlIdp', 'signInAtLocalSamlIdp', 'buildSignedSamlResponse', 'the local SAML IdP never runs']) {
      expect(build, `production build contains "${marker}"`).not.toContain(marker)
    }
  })
})
