/**
 * Hides UI the viewer's role may not use. The viewer is known from the first server render, so
 * what is hidden never flashes in and nothing shifts. UX only: the server checks every call.
 */
import type { ReactNode } from 'react'
import type { RoleRequirement } from '../lib/roles'
import { useCan } from '../lib/use-can'

/** Renders `children` when the signed-in viewer satisfies `role`, else `fallback` (nothing by default). */
export function RequireRole({ role, children, fallback = null }: { role: RoleRequirement; children: ReactNode; fallback?: ReactNode }) {
  return <>{useCan(role) ? children : fallback}</>
}
