/**
 * Admin console card: the organization's MFA policy (optional / required / required for a role
 * and above). Saving is a sensitive action (REAUTH_REQUIRED → re-auth dialog → retry); the server
 * refuses a policy that would force the admin themselves into enrollment.
 */
import { Link } from '@tanstack/react-router'
import { useId, useState, type FormEvent } from 'react'
import { toast } from 'sonner'
import appConfig from '../../../app.config'
import { describeRole } from '../../lib/auth-labels'
import { describeFormError, NO_FORM_ERROR } from '../../lib/form-errors'
import type { Role } from '../../lib/roles'
import { trpc, type RouterOutputs } from '../../lib/trpc'
import { useSignedInViewer } from '../../lib/use-viewer'
import { TEXT_LINK_CLASS } from '../auth-card'
import { useReauth } from '../reauth-provider'
import { Alert } from '../ui/alert'
import { Button } from '../ui/button'
import { Card } from '../ui/card'
import { Spinner } from '../ui/spinner'

type MfaPolicy = RouterOutputs['organization']['getMfaPolicy']

const ROLES = appConfig.roles as readonly Role[]

const OPTIONS: Array<{ value: MfaPolicy['policy']; label: string; hint: string }> = [
  { value: 'optional', label: 'Optional', hint: 'Members choose for themselves.' },
  { value: 'required', label: 'Required for everyone', hint: 'Members without an authenticator set one up right after signing in.' },
  { value: 'required_for_role', label: 'Required from a role up', hint: 'Only members at or above the chosen role must use it.' },
]

export function MfaPolicyCard() {
  const policy = trpc.organization.getMfaPolicy.useQuery()
  return (
    <Card title="Two-factor authentication policy" description="Who in your organization must sign in with an authenticator app.">
      {policy.data ? (
        <MfaPolicyForm key={`${policy.data.policy}:${policy.data.minRole}`} initial={policy.data} />
      ) : policy.isError ? (
        <Alert>{describeFormError(policy.error).message}</Alert>
      ) : (
        <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
          <Spinner /> Loading policy…
        </p>
      )}
    </Card>
  )
}

function MfaPolicyForm({ initial }: { initial: MfaPolicy }) {
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const setMfaPolicy = trpc.organization.setMfaPolicy.useMutation()
  const nameId = useId()
  const [selected, setSelected] = useState(initial.policy)
  const [minRole, setMinRole] = useState<Role>((initial.minRole as Role | null) ?? ROLES[Math.min(1, ROLES.length - 1)]!)
  const viewer = useSignedInViewer()
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const isUnchanged = selected === initial.policy && (selected !== 'required_for_role' || minRole === initial.minRole)

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await withReauth(() => setMfaPolicy.mutateAsync(selected === 'required_for_role' ? { policy: selected, minRole } : { policy: selected }))
      toast.success('Two-factor authentication policy saved.')
      // The change is also an audit event: the log below shows it at once.
      void utils.organization.getMfaPolicy.invalidate()
      void utils.admin.audit.list.invalidate()
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  return (
    <form method="post" className="flex flex-col gap-4" onSubmit={save}>
      <Alert>
        {formError.message && (
          <>
            {formError.message}
            {/* The one refusal a save meets: the policy would force the admin into enrollment. */}
            {formError.appCode === 'FORBIDDEN' && !viewer.user.isMfaEnabled && (
              <>
                {' '}
                <Link to="/settings/security" className={TEXT_LINK_CLASS}>
                  Set up two-factor authentication in your security settings
                </Link>
                .
              </>
            )}
          </>
        )}
      </Alert>
      <fieldset className="flex flex-col gap-3">
        <legend className="sr-only">Policy</legend>
        {OPTIONS.map((option) => (
          <label key={option.value} className="flex items-start gap-3 text-sm">
            <input
              type="radio"
              name={nameId}
              value={option.value}
              checked={selected === option.value}
              onChange={() => setSelected(option.value)}
              className="mt-0.5 size-4 border-slate-300 text-indigo-600 focus:ring-indigo-500"
            />
            <span>
              <span className="block font-medium text-slate-900">{option.label}</span>
              <span className="block text-slate-600">{option.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {selected === 'required_for_role' && (
        <label className="flex max-w-xs flex-col gap-1.5 text-sm">
          <span className="font-medium text-slate-800">Lowest role that must use it</span>
          <select
            value={minRole}
            onChange={(event) => setMinRole(event.target.value as Role)}
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500"
          >
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {describeRole(role)} and above
              </option>
            ))}
          </select>
        </label>
      )}
      <div>
        <Button type="submit" isLoading={setMfaPolicy.isPending} disabled={isUnchanged}>
          Save policy
        </Button>
      </div>
    </form>
  )
}
