/** Client-safe: this tab's auth synchroniser (see auth-sync.ts), from the router context. */
import { useRouter } from '@tanstack/react-router'
import type { AuthSync } from './auth-sync'

/** The router's `AuthSync` (one per tab). */
export function useAuthSync(): AuthSync {
  return useRouter().options.context.authSync
}
