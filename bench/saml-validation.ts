/**
 * In-process cost of validating one signed SAML response of realistic size (~10 KB with
 * attributes): node-saml's signature and condition checks plus the app's own checks, without the
 * database (a request cache that answers the one request id) — the "< 20 ms" validation target of
 * SPEC's performance section, separated from the ACS's database round trips. Part of `npm run bench`.
 */
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml'
import { getSamlServiceProviderUrls } from '../src/server/sso/saml/saml-metadata'
import { preparseSamlResponse } from '../src/server/sso/saml/saml-preparse'
import { checkSamlResponseAddressing, getSamlResponseFailureStatus } from '../src/server/sso/saml/saml-response-checks'
import { mapSamlProfileToClaims, type SamlProfileLike } from '../src/server/sso/saml/saml-attributes'
import { buildSamlTestResponse, createSamlTestKeys } from '../test/support/saml-responses'
import { percentile } from './load'

const RUNS = 300
const APP_URL = 'https://gatehouse.example'
const CONNECTION_ID = 'abcdefghijklmnopqrstuvwxyz'
const keys = createSamlTestKeys('bench-validation')
const urls = getSamlServiceProviderUrls(APP_URL, CONNECTION_ID)
const groups = Array.from({ length: 18 }, (_, index) => `cn=bench-group-${index},ou=groups,dc=saml,dc=bench,dc=example`)

async function validateOnce(index: number): Promise<{ ms: number; bytes: number }> {
  const requestId = `_bench${index.toString(16).padStart(8, '0')}`
  const built = buildSamlTestResponse({
    keys,
    idpEntityId: 'https://idp.bench.example/metadata',
    spEntityId: urls.entityId,
    acsUrl: urls.acsUrl,
    inResponseTo: requestId,
    nameId: `bench-subject-${index}`,
    attributes: { email: `user${index}@bench.example`, displayName: `Bench User ${index}`, groups },
  })
  const cache: CacheProvider = {
    saveAsync: async () => null,
    getAsync: async (key) => (key === requestId ? new Date().toISOString() : null),
    removeAsync: async () => null,
  }
  const started = performance.now()
  const preparsed = preparseSamlResponse(built.base64, { maxBytes: 256 * 1024 })
  if (!preparsed.isAccepted) throw new Error(`pre-parse refused: ${preparsed.reason}`)
  const saml = new SAML({
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    audience: urls.entityId,
    entryPoint: 'https://idp.bench.example/sso',
    idpCert: [keys.certificatePem],
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    cacheProvider: cache,
    acceptedClockSkewMs: 30_000,
    maxAssertionAgeMs: 300_000,
    signatureAlgorithm: 'sha256',
  })
  const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: built.base64 })
  const asProfile = profile as unknown as SamlProfileLike
  if (getSamlResponseFailureStatus(asProfile)) throw new Error('status refused')
  if (checkSamlResponseAddressing(asProfile, { idpEntityId: 'https://idp.bench.example/metadata', acsUrl: urls.acsUrl }).length) throw new Error('addressing refused')
  mapSamlProfileToClaims(asProfile, { samlEmailAttribute: null, samlNameAttribute: null, samlGroupsAttribute: null, samlAmrAttribute: null } as never)
  return { ms: performance.now() - started, bytes: Buffer.from(built.base64, 'base64').byteLength }
}

export type SamlValidationSummary = { runs: number; responseBytes: number; p50Ms: number; p99Ms: number }

/** Validates `runs` fresh responses in this process (the first 20 warm the JIT and are not counted). */
export async function measureSamlValidationInProcess(runs = RUNS): Promise<SamlValidationSummary> {
  const timings: number[] = []
  let responseBytes = 0
  for (let index = 0; index < runs + 20; index++) {
    const result = await validateOnce(index)
    if (index >= 20) timings.push(result.ms)
    responseBytes = result.bytes
  }
  const round2 = (value: number) => Math.round(value * 100) / 100
  return { runs, responseBytes, p50Ms: round2(percentile(timings, 50)), p99Ms: round2(percentile(timings, 99)) }
}
