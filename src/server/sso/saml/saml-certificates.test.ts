/** IdP signing certificates (issue 10): fingerprint, subject, expiry; expired refused at save, warning under 30 days. */
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSamlTestKeys } from '../../../../test/support/saml-responses'
import { checkSamlCertificatesForSave, describeSamlCertificate, normalizeCertificatePem, SamlCertificateError } from './saml-certificates'

const DAY_MS = 24 * 60 * 60 * 1000

function reasonOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (error instanceof SamlCertificateError) return error.reason
    throw error
  }
  throw new Error('expected a SamlCertificateError')
}

describe('SAML certificates', () => {
  const keys = createSamlTestKeys('cert-test', { days: 60, commonName: 'idp.globex.test' })
  const issuedAt = new Date(new X509Certificate(keys.certificatePem).validFrom)

  it('describes a certificate with the fingerprint openssl prints, its subject and expiry', () => {
    const info = describeSamlCertificate(keys.certificatePem, new Date())
    const openssl = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: keys.certificatePem }).toString()
    expect(openssl.trim().split('=')[1]).toBe(info.fingerprintSha256)
    expect(info.subject).toBe('CN=idp.globex.test')
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(60 * DAY_MS)
    expect(info).toMatchObject({ isExpired: false, isExpiringSoon: false })
  })

  it('accepts the bare base64 of metadata and normalises it to one PEM block', () => {
    const bare = keys.certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '')
    expect(normalizeCertificatePem(` ${bare.slice(0, 40)}\n${bare.slice(40)} `)).toBe(normalizeCertificatePem(keys.certificatePem))
    expect(describeSamlCertificate(bare, new Date()).fingerprintSha256).toBe(describeSamlCertificate(keys.certificatePem, new Date()).fingerprintSha256)
  })

  it('warns under 30 days and refuses an expired certificate at save', () => {
    const in45Days = new Date(issuedAt.getTime() + 45 * DAY_MS)
    expect(checkSamlCertificatesForSave([keys.certificatePem], in45Days)[0]).toMatchObject({ isExpired: false, isExpiringSoon: true })
    const in61Days = new Date(issuedAt.getTime() + 61 * DAY_MS)
    expect(describeSamlCertificate(keys.certificatePem, in61Days).isExpired).toBe(true)
    expect(reasonOf(() => checkSamlCertificatesForSave([keys.certificatePem], in61Days))).toBe('expired')
  })

  it('refuses garbage, an empty list, and RSA keys under 2048 bits; collapses duplicates', () => {
    expect(reasonOf(() => describeSamlCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', new Date()))).toBe('invalid_certificate')
    expect(reasonOf(() => describeSamlCertificate('not a certificate!', new Date()))).toBe('invalid_certificate')
    expect(reasonOf(() => checkSamlCertificatesForSave([], new Date()))).toBe('no_certificate')
    const weak = createSamlTestKeys('weak', { bits: 1024 })
    expect(reasonOf(() => checkSamlCertificatesForSave([weak.certificatePem], new Date()))).toBe('weak_key')
    const other = createSamlTestKeys('other-idp')
    expect(checkSamlCertificatesForSave([keys.certificatePem, other.certificatePem, keys.certificatePem], new Date())).toHaveLength(2)
  })
})
