/** A connection's state in one pill: enabled, disabled, or a draft (and whether it passed a test). */
import type { RouterOutputs } from '../../../lib/trpc'
import { Badge } from '../../ui/badge'

type Connection = Pick<RouterOutputs['organization']['sso']['list'][number], 'status' | 'isTestedSinceLastChange'>

export function ConnectionStatusBadge({ connection }: { connection: Connection }) {
  if (connection.status === 'enabled') return <Badge tone="success">Enabled</Badge>
  const tested = connection.isTestedSinceLastChange ? 'tested' : 'not tested'
  return <Badge tone={connection.status === 'disabled' ? 'danger' : 'warning'}>{connection.status === 'disabled' ? `Disabled, ${tested}` : `Draft, ${tested}`}</Badge>
}
