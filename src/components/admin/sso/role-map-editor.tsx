/**
 * The group → role table of a connection. Only roles up to the editor's own are offered
 * (`getAssignableRoles`, the rule the server enforces too); a mapping someone more senior set is
 * shown but cannot be chosen again.
 */
import { describeRole } from '../../../lib/auth-labels'
import { Button } from '../../ui/button'

export type RoleMapRow = { key: number; group: string; role: string }

const INPUT_CLASS =
  'block w-full min-w-0 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500'

let nextRowKey = 1

/** Rows for the editor from a stored map. */
export function toRoleMapRows(map: Record<string, string>): RoleMapRow[] {
  return Object.entries(map).map(([group, role]) => ({ key: nextRowKey++, group, role }))
}

/** The stored map from the editor's rows (blank groups dropped). */
export function fromRoleMapRows(rows: RoleMapRow[]): Record<string, string> {
  return Object.fromEntries(rows.filter((row) => row.group.trim()).map((row) => [row.group.trim(), row.role]))
}

/**
 * The roles an editor may pick, plus the current one when it is above theirs (shown, not
 * choosable: an admin viewing an owner's mapping sees it as it is).
 */
export function RoleOptions({ current, assignableRoles }: { current: string; assignableRoles: string[] }) {
  return (
    <>
      {!assignableRoles.includes(current) && (
        <option value={current} disabled>
          {describeRole(current)} (above your role)
        </option>
      )}
      {assignableRoles.map((role) => (
        <option key={role} value={role}>
          {describeRole(role)}
        </option>
      ))}
    </>
  )
}

export function RoleMapEditor({ rows, onChange, assignableRoles }: { rows: RoleMapRow[]; onChange: (rows: RoleMapRow[]) => void; assignableRoles: string[] }) {
  const update = (key: number, change: Partial<RoleMapRow>) => onChange(rows.map((row) => (row.key === key ? { ...row, ...change } : row)))
  return (
    <fieldset className="flex flex-col gap-2">
      <legend className="text-sm font-medium text-slate-800">Groups and roles</legend>
      <p className="text-xs text-slate-500">A member of several groups gets the highest of their roles. You can map groups to roles up to your own.</p>
      {rows.length > 0 && (
        <ul className="flex flex-col gap-2" aria-label="Group role mappings">
          {rows.map((row, index) => (
            <li key={row.key} className="grid grid-cols-[minmax(0,1fr)_auto] items-center gap-2 sm:grid-cols-[minmax(0,1fr)_10rem_auto]">
              <input
                className={`${INPUT_CLASS} col-span-2 sm:col-span-1`}
                aria-label={`Group ${index + 1}`}
                placeholder="Group name from the IdP"
                value={row.group}
                onChange={(event) => update(row.key, { group: event.target.value })}
              />
              <select className={INPUT_CLASS} aria-label={`Role for group ${index + 1}`} value={row.role} onChange={(event) => update(row.key, { role: event.target.value })}>
                <RoleOptions current={row.role} assignableRoles={assignableRoles} />
              </select>
              <Button variant="ghost" aria-label={`Remove group ${index + 1}`} onClick={() => onChange(rows.filter((other) => other.key !== row.key))}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <div>
        <Button variant="secondary" onClick={() => onChange([...rows, { key: nextRowKey++, group: '', role: assignableRoles[0] ?? 'member' }])}>
          Add a group
        </Button>
      </div>
    </fieldset>
  )
}
