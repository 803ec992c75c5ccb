/**
 * One claimed domain in the console: the TXT record to publish (with copy buttons) while it is
 * pending, "Verify now" with the outcome in words, the connection its sign-ins go to once verified,
 * and removal after a confirmation. Routing and removal change who can sign in, so they go through
 * `withReauth`.
 */
import { useId, useState } from 'react'
import { toast } from 'sonner'
import { describeFormError } from '../../../lib/form-errors'
import { trpc, type RouterOutputs } from '../../../lib/trpc'
import { LocalTime } from '../../local-time'
import { useReauth } from '../../reauth-provider'
import { Alert } from '../../ui/alert'
import { Badge } from '../../ui/badge'
import { Button } from '../../ui/button'
import { ConfirmActionDialog } from '../../ui/confirm-dialog'
import { CopyField } from '../../ui/copy-field'
import { describeDomainCheck } from './domain-outcomes'

export type DomainView = RouterOutputs['organization']['domains']['list'][number]
type ConnectionView = RouterOutputs['organization']['sso']['list'][number]

const SELECT_CLASS =
  'min-h-10 rounded-md border border-slate-300 bg-white px-2 text-sm text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500 disabled:opacity-60'

function useRefreshDomains() {
  const utils = trpc.useUtils()
  return () => {
    void utils.organization.domains.list.invalidate()
    void utils.admin.audit.list.invalidate()
  }
}

export function DomainRow({ domain, connections }: { domain: DomainView; connections: ConnectionView[] }) {
  const refresh = useRefreshDomains()
  const [outcome, setOutcome] = useState<string | null>(null)
  const verify = trpc.organization.domains.verify.useMutation()
  const lastOutcome = outcome ?? (domain.isVerified ? null : domain.lastCheckResult)

  async function verifyNow() {
    try {
      const result = await verify.mutateAsync({ domain: domain.domain })
      setOutcome(result.outcome)
      refresh()
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  return (
    <li className="flex flex-col gap-4 py-4" data-testid="domain-row" aria-label={domain.domain}>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="flex min-w-0 items-center gap-2">
          <span className="truncate font-medium text-slate-900">{domain.domain}</span>
          {domain.isVerified ? <Badge tone="success">Verified</Badge> : <Badge tone="warning">Pending</Badge>}
        </div>
        <div className="flex flex-wrap gap-2">
          {!domain.isVerified && (
            <Button variant="secondary" isLoading={verify.isPending} aria-label={`Verify now ${domain.domain}`} onClick={() => void verifyNow()}>
              Verify now
            </Button>
          )}
          <RemoveDomainButton domain={domain} />
        </div>
      </div>
      {!domain.isVerified && (
        <div className="flex flex-col gap-3 rounded-lg bg-slate-50 p-4">
          <p className="text-sm text-slate-700">
            Publish this TXT record in the DNS of {domain.domain}, then press “Verify now”. It proves your organization controls the domain.
          </p>
          <div className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_auto]">
            <CopyField label="Record name" value={domain.record.name} />
            <div className="flex flex-col gap-1.5">
              <span className="text-xs font-medium uppercase tracking-wide text-slate-500">Type</span>
              <span className="py-2 font-mono text-sm">{domain.record.type}</span>
            </div>
          </div>
          <CopyField label="Record value" value={domain.record.value} />
        </div>
      )}
      {lastOutcome && (
        <Alert tone={lastOutcome === 'verified' || lastOutcome === 'already_verified' ? 'success' : 'warning'}>
          {describeDomainCheck(lastOutcome, domain.domain, domain.record.name)}
          {!outcome && domain.lastCheckedAt && (
            <span className="block text-xs opacity-80">
              Last checked <LocalTime iso={domain.lastCheckedAt} />
            </span>
          )}
        </Alert>
      )}
      {domain.isVerified && <DomainRouting domain={domain} connections={connections} />}
    </li>
  )
}

/** Which connection the domain's sign-ins go to (only enabled connections sign anyone in). */
function DomainRouting({ domain, connections }: { domain: DomainView; connections: ConnectionView[] }) {
  const refresh = useRefreshDomains()
  const { withReauth } = useReauth()
  const route = trpc.organization.domains.route.useMutation()
  const selectId = useId()

  async function routeTo(connectionId: string | null) {
    try {
      await withReauth(() => route.mutateAsync({ domain: domain.domain, connectionId }))
      const name = connections.find((connection) => connection.id === connectionId)?.displayName
      toast.success(name ? `Sign-ins for ${domain.domain} now go to ${name}.` : `${domain.domain} is no longer routed to single sign-on.`)
      refresh()
    } catch (error) {
      toast.error(describeFormError(error).message)
    }
  }

  const routed = connections.find((connection) => connection.id === domain.connectionId)
  return (
    <div className="flex flex-wrap items-center gap-3 text-sm">
      <label htmlFor={selectId} className="text-slate-700">
        Sign-ins go to
      </label>
      <select id={selectId} className={SELECT_CLASS} value={domain.connectionId ?? ''} disabled={route.isPending} onChange={(event) => void routeTo(event.target.value || null)}>
        <option value="">No connection (passwords)</option>
        {connections.map((connection) => (
          <option key={connection.id} value={connection.id}>
            {connection.displayName}
            {connection.status === 'enabled' ? '' : ` (${connection.status === 'draft' ? 'not enabled yet' : 'disabled'})`}
          </option>
        ))}
      </select>
      {routed && routed.status !== 'enabled' && <span className="text-amber-800">{routed.displayName} is not enabled, so these sign-ins still use passwords.</span>}
    </div>
  )
}

function RemoveDomainButton({ domain }: { domain: DomainView }) {
  const refresh = useRefreshDomains()
  const { withReauth } = useReauth()
  const remove = trpc.organization.domains.remove.useMutation()

  async function confirmRemove() {
    await withReauth(() => remove.mutateAsync({ domain: domain.domain }))
    toast.success(`${domain.domain} removed.`)
    refresh()
  }

  return (
    <ConfirmActionDialog
      trigger={
        <Button variant="danger" aria-label={`Remove ${domain.domain}`}>
          Remove
        </Button>
      }
      title={`Remove ${domain.domain}?`}
      description={
        domain.isVerified
          ? `People at ${domain.domain} no longer sign in through single sign-on, and to claim the domain again you have to verify it again.`
          : `The claim on ${domain.domain} is withdrawn; the TXT record can be deleted from DNS.`
      }
      confirmLabel="Remove domain"
      isPending={remove.isPending}
      onConfirm={confirmRemove}
    />
  )
}
