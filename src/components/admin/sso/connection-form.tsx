/**
 * The settings of an OIDC connection, for creating one and for editing it. The client secret is
 * write-only: the field is never prefilled (the server never sends it back); when editing, leaving
 * it empty keeps the stored one. Saving is sensitive (`withReauth`), and after any change the
 * connection needs a passing test sign-in before it can be enabled again.
 */
import { useId, useState, type FormEvent } from 'react'
import { describeFormError, NO_FORM_ERROR } from '../../../lib/form-errors'
import { getAssignableRoles } from '../../../lib/member-permissions'
import type { RouterInputs, RouterOutputs } from '../../../lib/trpc'
import { useSignedInViewer } from '../../../lib/use-viewer'
import { useReauth } from '../../reauth-provider'
import { Alert } from '../../ui/alert'
import { Button } from '../../ui/button'
import { TextField } from '../../ui/text-field'
import { FormSection, parseValueList, RolesSection, SELECT_CLASS } from './connection-form-parts'
import { fromRoleMapRows, toRoleMapRows, type RoleMapRow } from './role-map-editor'

export type ConnectionView = RouterOutputs['organization']['sso']['get']
export type OidcSettings = Omit<RouterInputs['organization']['sso']['createOidc'], 'clientSecret'> & { clientSecret?: string }


type FormState = {
  displayName: string
  issuer: string
  clientId: string
  clientSecret: string
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post'
  scopes: string
  emailClaim: string
  nameClaim: string
  groupsClaim: string
  roleMap: RoleMapRow[]
  defaultRole: string
  mfaAmrValues: string
  mfaAcrValues: string
}

function initialState(connection: ConnectionView | null): FormState {
  return {
    displayName: connection?.displayName ?? '',
    issuer: connection?.issuer ?? '',
    clientId: connection?.clientId ?? '',
    clientSecret: '',
    tokenAuthMethod: connection?.tokenAuthMethod ?? 'client_secret_basic',
    scopes: connection?.scopes ?? 'openid email profile',
    emailClaim: connection?.emailClaim ?? 'email',
    nameClaim: connection?.nameClaim ?? 'name',
    groupsClaim: connection?.groupsClaim ?? 'groups',
    roleMap: toRoleMapRows(connection?.groupRoleMap ?? {}),
    defaultRole: connection?.defaultRole ?? 'member',
    mfaAmrValues: (connection?.mfaAmrValues ?? []).join(', '),
    mfaAcrValues: (connection?.mfaAcrValues ?? []).join(', '),
  }
}


/** Empty text means "the default": the server fills it in. */
function optional(value: string): string | undefined {
  return value.trim() || undefined
}

function toSettings(state: FormState): OidcSettings {
  return {
    displayName: state.displayName,
    issuer: state.issuer,
    clientId: state.clientId,
    ...(state.clientSecret ? { clientSecret: state.clientSecret } : {}),
    tokenAuthMethod: state.tokenAuthMethod,
    scopes: optional(state.scopes),
    emailClaim: optional(state.emailClaim),
    nameClaim: optional(state.nameClaim),
    groupsClaim: optional(state.groupsClaim),
    groupRoleMap: fromRoleMapRows(state.roleMap) as OidcSettings['groupRoleMap'],
    defaultRole: state.defaultRole as OidcSettings['defaultRole'],
    mfaAmrValues: parseValueList(state.mfaAmrValues),
    mfaAcrValues: parseValueList(state.mfaAcrValues),
  }
}


export function ConnectionForm({ connection, submitLabel, isPending, onSubmit }: {
  /** Null to create a connection. */
  connection: ConnectionView | null
  submitLabel: string
  isPending: boolean
  onSubmit: (settings: OidcSettings) => Promise<void>
}) {
  const viewer = useSignedInViewer()
  const { withReauth } = useReauth()
  const assignableRoles = getAssignableRoles(viewer.user.role)
  const id = useId()
  const [state, setState] = useState(() => initialState(connection))
  const [formError, setFormError] = useState(NO_FORM_ERROR)
  const set = (change: Partial<FormState>) => setState((current) => ({ ...current, ...change }))
  const field = (name: keyof FormState) => formError.fields[name] ?? null

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      await withReauth(() => onSubmit(toSettings(state)))
      set({ clientSecret: '' })
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  return (
    <form className="flex flex-col gap-6" onSubmit={submit} noValidate aria-label={connection ? 'Connection settings' : 'New OIDC connection'}>
      <Alert>{formError.message}</Alert>
      <FormSection title="Identity provider">
        <TextField label="Name" hint="Shown to people on the sign-in button: “Continue with …”." required value={state.displayName} onChange={(event) => set({ displayName: event.target.value })} error={field('displayName')} />
        <TextField label="Issuer URL" type="url" placeholder="https://login.example.com" hint="The IdP’s issuer; its discovery document is read from /.well-known/openid-configuration." required value={state.issuer} onChange={(event) => set({ issuer: event.target.value })} error={field('issuer')} spellCheck={false} />
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Client ID" required value={state.clientId} onChange={(event) => set({ clientId: event.target.value })} error={field('clientId')} spellCheck={false} autoComplete="off" />
          <TextField
            label="Client secret"
            type="password"
            autoComplete="new-password"
            required={!connection}
            hint={connection?.hasClientSecret ? 'A secret is stored and never shown. Leave this empty to keep it.' : 'Stored encrypted and never shown again.'}
            value={state.clientSecret}
            onChange={(event) => set({ clientSecret: event.target.value })}
            error={field('clientSecret')}
          />
        </div>
        <div className="grid gap-4 sm:grid-cols-2">
          <div className="flex flex-col gap-1.5 text-sm">
            <label htmlFor={`${id}-auth`} className="font-medium text-slate-800">
              Client authentication
            </label>
            <select id={`${id}-auth`} className={SELECT_CLASS} value={state.tokenAuthMethod} onChange={(event) => set({ tokenAuthMethod: event.target.value as FormState['tokenAuthMethod'] })}>
              <option value="client_secret_basic">HTTP Basic (client_secret_basic)</option>
              <option value="client_secret_post">In the request body (client_secret_post)</option>
            </select>
          </div>
          <TextField label="Scopes" hint="Space-separated; must include openid." value={state.scopes} onChange={(event) => set({ scopes: event.target.value })} error={field('scopes')} spellCheck={false} />
        </div>
      </FormSection>
      <FormSection title="Claims">
        <div className="grid gap-4 sm:grid-cols-3">
          <TextField label="Email claim" value={state.emailClaim} onChange={(event) => set({ emailClaim: event.target.value })} error={field('emailClaim')} spellCheck={false} />
          <TextField label="Name claim" value={state.nameClaim} onChange={(event) => set({ nameClaim: event.target.value })} error={field('nameClaim')} spellCheck={false} />
          <TextField label="Groups claim" value={state.groupsClaim} onChange={(event) => set({ groupsClaim: event.target.value })} error={field('groupsClaim')} spellCheck={false} />
        </div>
      </FormSection>
      <RolesSection id={id} roleMap={state.roleMap} defaultRole={state.defaultRole} assignableRoles={assignableRoles} onChange={set} />
      <FormSection title="Multi-factor authentication at the IdP">
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="MFA amr values" placeholder="mfa, otp, hwk" hint="An amr claim containing any of these counts as MFA (RFC 8176)." value={state.mfaAmrValues} onChange={(event) => set({ mfaAmrValues: event.target.value })} error={field('mfaAmrValues')} spellCheck={false} />
          <TextField label="MFA acr values" hint="An acr claim equal to any of these counts as MFA." value={state.mfaAcrValues} onChange={(event) => set({ mfaAcrValues: event.target.value })} error={field('mfaAcrValues')} spellCheck={false} />
        </div>
      </FormSection>
      <div>
        <Button type="submit" isLoading={isPending}>
          {submitLabel}
        </Button>
      </div>
    </form>
  )
}
