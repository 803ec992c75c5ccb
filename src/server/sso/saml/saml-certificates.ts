/**
 * Server-only: the IdP signing certificates of a SAML connection (issue 10). All listed
 * certificates are accepted (node-saml's `idpCert` array), so an IdP can rotate keys without an
 * outage; the admin sees each one's SHA-256 fingerprint, subject and expiry. The certificate is
 * only a carrier of the IdP's public key (SAML Metadata §2.4.1.1): its own validity dates are
 * enforced here at save time, never its chain.
 */
import { X509Certificate } from 'node:crypto'

/** Days before expiry from which the console and the CLI warn. */
export const SAML_CERTIFICATE_WARNING_DAYS = 30
/** More would be a mistake, not a rotation. */
export const MAX_SAML_CERTIFICATES = 5
/** RSA keys below this are refused (NIST SP 800-131A: 2048 bits minimum). */
const MIN_RSA_MODULUS_BITS = 2048
const DAY_MS = 24 * 60 * 60 * 1000

export type SamlCertificateErrorReason = 'invalid_certificate' | 'expired' | 'weak_key' | 'no_certificate' | 'too_many_certificates'

export class SamlCertificateError extends Error {
  override name = 'SamlCertificateError'
  constructor(
    readonly reason: SamlCertificateErrorReason,
    message: string,
  ) {
    super(message)
  }
}

export type SamlCertificateInfo = {
  /** Normalised PEM (one `CERTIFICATE` block, 64-character lines): what is stored and given to node-saml. */
  pem: string
  /** Upper-case hex pairs separated by colons, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprintSha256: string
  /** The subject's RDNs joined with ", " (e.g. `CN=idp.example.com, O=Example`). */
  subject: string
  notBefore: Date
  notAfter: Date
  isExpired: boolean
  /** Valid now but expires within `SAML_CERTIFICATE_WARNING_DAYS`. */
  isExpiringSoon: boolean
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/

/** Accepts a PEM block or the bare base64 of metadata's `X509Certificate`; returns one normalised PEM. */
export function normalizeCertificatePem(text: string): string {
  const block = PEM_BLOCK.exec(text)
  const base64 = (block ? block[1]! : text).replace(/\s+/g, '')
  if (!base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new SamlCertificateError('invalid_certificate', 'not a PEM certificate')
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

/** Parses one certificate and describes it for the admin; throws `SamlCertificateError('invalid_certificate')`. */
export function describeSamlCertificate(text: string, now: Date): SamlCertificateInfo {
  const pem = normalizeCertificatePem(text)
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(pem)
  } catch {
    throw new SamlCertificateError('invalid_certificate', 'the certificate does not parse as X.509')
  }
  const notBefore = new Date(certificate.validFrom)
  const notAfter = new Date(certificate.validTo)
  const isExpired = notAfter.getTime() <= now.getTime()
  return {
    pem,
    fingerprintSha256: certificate.fingerprint256,
    subject: certificate.subject.split('\n').filter(Boolean).join(', '),
    notBefore,
    notAfter,
    isExpired,
    isExpiringSoon: !isExpired && notAfter.getTime() - now.getTime() < SAML_CERTIFICATE_WARNING_DAYS * DAY_MS,
  }
}

function checkKeyStrength(pem: string): void {
  const key = new X509Certificate(pem).publicKey
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (key.asymmetricKeyType === 'rsa' && (bits === undefined || bits < MIN_RSA_MODULUS_BITS)) {
    throw new SamlCertificateError('weak_key', `RSA keys need at least ${MIN_RSA_MODULUS_BITS} bits`)
  }
}

/**
 * Checks the certificates of a connection before they are saved: at least one, at most
 * `MAX_SAML_CERTIFICATES`, each parseable, none expired, RSA ≥ 2048 bits; duplicates (same
 * fingerprint) collapse. Returns them described, with `isExpiringSoon` for the warning.
 */
export function checkSamlCertificatesForSave(texts: string[], now: Date): SamlCertificateInfo[] {
  if (texts.length === 0) throw new SamlCertificateError('no_certificate', 'at least one IdP signing certificate is required')
  const byFingerprint = new Map<string, SamlCertificateInfo>()
  for (const text of texts) {
    const info = describeSamlCertificate(text, now)
    if (info.isExpired) throw new SamlCertificateError('expired', `the certificate ${info.fingerprintSha256} (${info.subject}) expired on ${info.notAfter.toISOString()}`)
    checkKeyStrength(info.pem)
    byFingerprint.set(info.fingerprintSha256, info)
  }
  if (byFingerprint.size > MAX_SAML_CERTIFICATES) throw new SamlCertificateError('too_many_certificates', `at most ${MAX_SAML_CERTIFICATES} certificates`)
  return [...byFingerprint.values()]
}
