/** Server-only: the per-response policies of `src/start.ts`, kept here so the client never loads them. */
import { getServerEnv } from '../env'
import { applySecurityHeaders } from './security-headers'

/** Applies security headers according to the running environment. */
export function applyResponsePolicies(response: Response): void {
  const env = getServerEnv()
  applySecurityHeaders(response.headers, {
    isDevelopment: env.mode === 'development',
    isHttps: env.appUrl.protocol === 'https:',
  })
}
