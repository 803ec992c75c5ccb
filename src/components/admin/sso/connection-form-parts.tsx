/**
 * What the OIDC and SAML connection forms share: the section frame, the select style, the
 * "mfa, otp hwk" list parser and the roles section (group → role table and default role, both
 * limited to the roles the editor may assign, the rule the server enforces too).
 */
import type { ReactNode } from 'react'
import { RoleMapEditor, RoleOptions, type RoleMapRow } from './role-map-editor'

export const SELECT_CLASS =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500 sm:text-sm'

export function FormSection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="flex flex-col gap-4 border-t border-slate-100 pt-4 first:border-t-0 first:pt-0">
      <legend className="float-left mb-1 w-full text-sm font-semibold text-slate-900">{title}</legend>
      {children}
    </fieldset>
  )
}

/** "mfa, otp hwk" → ['mfa', 'otp', 'hwk']. */
export function parseValueList(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean)
}

export function RolesSection({ id, roleMap, defaultRole, assignableRoles, onChange }: {
  id: string
  roleMap: RoleMapRow[]
  defaultRole: string
  assignableRoles: string[]
  onChange: (change: { roleMap?: RoleMapRow[]; defaultRole?: string }) => void
}) {
  return (
    <FormSection title="Roles">
      <RoleMapEditor rows={roleMap} onChange={(rows) => onChange({ roleMap: rows })} assignableRoles={assignableRoles} />
      <div className="flex max-w-xs flex-col gap-1.5 text-sm">
        <label htmlFor={`${id}-default-role`} className="font-medium text-slate-800">
          Default role
        </label>
        <select id={`${id}-default-role`} aria-describedby={`${id}-default-role-hint`} className={SELECT_CLASS} value={defaultRole} onChange={(event) => onChange({ defaultRole: event.target.value })}>
          <RoleOptions current={defaultRole} assignableRoles={assignableRoles} />
        </select>
        <span id={`${id}-default-role-hint`} className="text-xs text-slate-500">
          For people in none of the groups above.
        </span>
      </div>
    </FormSection>
  )
}
