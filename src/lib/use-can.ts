/**
 * Client-safe: role checks for hiding UI. The same `satisfiesRole` as the server guards, so the
 * UI hides exactly what the server would refuse (the server still checks every call).
 */
import { satisfiesRole, type RoleRequirement } from './roles'
import { useViewer } from './use-viewer'
import { isSignedIn } from './viewer'

/** True when the signed-in viewer's role satisfies the requirement (false when signed out). */
export function useCan(requirement: RoleRequirement): boolean {
  const viewer = useViewer()
  return isSignedIn(viewer) && satisfiesRole(viewer.user.role, requirement)
}
