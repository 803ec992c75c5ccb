/**
 * Admin console card: the organization's single sign-on policy (owner only, sensitive). Turning
 * enforcement on closes password sign-in for the verified domains except for the break-glass owner;
 * the server checks every precondition and refuses with a sentence naming the first one unmet,
 * which is shown as is.
 */
import { useId, useState, type FormEvent } from 'react'
import { toast } from 'sonner'
import { describeFormError, NO_FORM_ERROR } from '../../../lib/form-errors'
import { trpc, type RouterOutputs } from '../../../lib/trpc'
import { useCan } from '../../../lib/use-can'
import { LocalTime } from '../../local-time'
import { useReauth } from '../../reauth-provider'
import { Alert } from '../../ui/alert'
import { Badge } from '../../ui/badge'
import { Button } from '../../ui/button'
import { Card } from '../../ui/card'
import { Spinner } from '../../ui/spinner'

type SsoPolicy = RouterOutputs['organization']['getSsoPolicy']
type Member = RouterOutputs['admin']['users']['list'][number]

const SELECT_CLASS =
  'block w-full max-w-sm rounded-md border border-slate-300 bg-white px-3 py-2 text-base text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500 sm:text-sm'

export function SsoPolicyCard() {
  const isOwner = useCan('owner')
  const policy = trpc.organization.getSsoPolicy.useQuery()
  const members = trpc.admin.users.list.useQuery()
  return (
    <Card title="Single sign-on policy" description="Make single sign-on mandatory for your verified domains, with one owner who can still use a password if the identity provider fails.">
      {policy.data && members.data ? (
        isOwner ? (
          <SsoPolicyForm key={JSON.stringify(policy.data)} initial={policy.data} members={members.data} />
        ) : (
          <SsoPolicySummary policy={policy.data} members={members.data} />
        )
      ) : policy.isError || members.isError ? (
        <Alert>{describeFormError(policy.error ?? members.error).message}</Alert>
      ) : (
        <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
          <Spinner /> Loading policy…
        </p>
      )}
    </Card>
  )
}

/** What admins who are not owners see: the policy, read-only. */
function SsoPolicySummary({ policy, members }: { policy: SsoPolicy; members: Member[] }) {
  const breakGlass = members.find((member) => member.id === policy.breakGlassUserId)
  return (
    <div className="flex flex-col gap-2 text-sm text-slate-700" data-testid="sso-policy-summary">
      <p>{policy.isEnforced ? 'Single sign-on is required for your verified domains.' : 'Single sign-on is not required: people may also sign in with a password.'}</p>
      {breakGlass && <p>Break-glass owner: {breakGlass.name}.</p>}
      <p>{policy.mfaMode === 'trust_idp_mfa' ? 'Multi-factor authentication at the identity provider is trusted.' : 'Two-factor authentication is asked for here, even after single sign-on.'}</p>
      <p className="text-slate-500">Only an owner can change this policy.</p>
    </div>
  )
}

function SsoPolicyForm({ initial, members }: { initial: SsoPolicy; members: Member[] }) {
  const utils = trpc.useUtils()
  const { withReauth } = useReauth()
  const setSsoPolicy = trpc.organization.setSsoPolicy.useMutation()
  const [isEnforced, setIsEnforced] = useState(initial.isEnforced)
  const [breakGlassUserId, setBreakGlassUserId] = useState(initial.breakGlassUserId ?? '')
  const [isIdpMfaTrusted, setIsIdpMfaTrusted] = useState(initial.mfaMode === 'trust_idp_mfa')
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const breakGlassId = useId()
  const owners = members.filter((member) => member.role === 'owner' && !member.isDisabled)
  const mfaMode = isIdpMfaTrusted ? 'trust_idp_mfa' : 'require_gatehouse_mfa'
  const isUnchanged = isEnforced === initial.isEnforced && breakGlassUserId === (initial.breakGlassUserId ?? '') && mfaMode === initial.mfaMode

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      const result = await withReauth(() => setSsoPolicy.mutateAsync({ isEnforced, breakGlassUserId: breakGlassUserId || null, mfaMode }))
      const revoked = result.passwordSessionsRevoked
      toast.success(
        isEnforced && !initial.isEnforced
          ? `Single sign-on is now required.${revoked > 0 ? ` ${revoked} password ${revoked === 1 ? 'session was' : 'sessions were'} signed out.` : ''}`
          : 'Single sign-on policy saved.',
      )
      void utils.organization.getSsoPolicy.invalidate()
      void utils.admin.audit.list.invalidate()
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  return (
    <form className="flex flex-col gap-5" onSubmit={save} aria-label="Single sign-on policy">
      <Alert>{formError.message}</Alert>
      {initial.enforcedAt && (
        <p className="text-sm text-slate-700">
          <Badge tone="success">Required</Badge> since <LocalTime iso={initial.enforcedAt} />
        </p>
      )}
      <label className="flex items-start gap-3 text-sm">
        <input type="checkbox" className="mt-0.5 size-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" checked={isEnforced} onChange={(event) => setIsEnforced(event.target.checked)} />
        <span>
          <span className="block font-medium text-slate-900">Require single sign-on</span>
          <span className="block text-slate-600">
            Password sign-in, sign-up and password resets close for your verified domains; other members’ password sessions are signed out. Needs an enabled, tested connection for every verified domain.
          </span>
        </span>
      </label>
      <div className="flex flex-col gap-1.5 text-sm">
        <label htmlFor={breakGlassId} className="font-medium text-slate-800">
          Break-glass owner
        </label>
        <select id={breakGlassId} className={SELECT_CLASS} value={breakGlassUserId} onChange={(event) => setBreakGlassUserId(event.target.value)} aria-describedby={`${breakGlassId}-hint`}>
          <option value="">Nobody</option>
          {owners.map((owner) => {
            const isEligible = owner.signInMethods.includes('password') && owner.isMfaEnabled
            return (
              <option key={owner.id} value={owner.id}>
                {owner.name}
                {isEligible ? '' : ' (needs a password and two-factor authentication)'}
              </option>
            )
          })}
        </select>
        <span id={`${breakGlassId}-hint`} className="text-xs text-slate-500">
          An owner with a password and two-factor authentication who can still sign in with them while single sign-on is required.
        </span>
      </div>
      <label className="flex items-start gap-3 text-sm">
        <input type="checkbox" className="mt-0.5 size-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" checked={isIdpMfaTrusted} onChange={(event) => setIsIdpMfaTrusted(event.target.checked)} />
        <span>
          <span className="block font-medium text-slate-900">Trust the identity provider’s multi-factor authentication</span>
          <span className="block text-slate-600">When the IdP reports MFA (the amr or acr values set on the connection), people are not asked for a second factor here too.</span>
        </span>
      </label>
      <div>
        <Button type="submit" isLoading={setSsoPolicy.isPending} disabled={isUnchanged}>
          Save policy
        </Button>
      </div>
    </form>
  )
}
