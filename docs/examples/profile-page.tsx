// docs/examples/profile-page.tsx
/**
 * Client-safe: the guide's example component. In the app, import `trpc` from src/lib/trpc.ts
 * (typed by `AppRouter`); this file types its own hooks by the example router, which is not in
 * `AppRouter`. Only the router's *type* is imported: no server code reaches the client.
 */
import { createTRPCReact } from '@trpc/react-query'
import { useState, type FormEvent } from 'react'
import { useReauth } from '../../src/components/reauth-provider'
import { RequireRole } from '../../src/components/require-role'
import { describeFormError } from '../../src/lib/form-errors'
import { useSignedInViewer } from '../../src/lib/use-viewer'
import type { GuideExampleRouter } from './profile-router'

const trpc = createTRPCReact<GuideExampleRouter>()

export function ProfilePage() {
  // SSR-hydrated: known on the first render, no signed-out flash. Only under the _authed layout.
  const viewer = useSignedInViewer()
  const profile = trpc.profile.me.useQuery()
  const utils = trpc.useUtils()
  const rename = trpc.profile.rename.useMutation({ onSuccess: () => utils.profile.me.invalidate() })
  const { withReauth } = useReauth()
  const [name, setName] = useState(viewer.user.name)

  async function onSubmit(event: FormEvent) {
    event.preventDefault()
    // On REAUTH_REQUIRED the dialog asks the user to confirm it is them, then runs this call once more.
    // A refusal, or a cancelled dialog, rejects: the error stays in rename.error; the catch keeps it
    // from becoming an unhandled rejection.
    await withReauth(() => rename.mutateAsync({ name })).catch(() => {})
  }

  return (
    // method="post": a submit before hydration must never put the field into the URL (a GET).
    <form method="post" onSubmit={onSubmit}>
      {/* useQuery does not run during SSR: until the data arrives show a placeholder, never a wrong "none". */}
      <p>Organization: {profile.data ? (profile.data.organizationName ?? 'none') : '…'}</p>
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <button type="submit" disabled={rename.isPending}>
        Save
      </button>
      {/* The server's message already says what to do ("Try again in 15 minutes", which field is wrong). */}
      {rename.error && <p role="alert">{describeFormError(rename.error).message}</p>}
      {/* Hiding is UX: team.members itself refuses a member with FORBIDDEN. */}
      <RequireRole role="admin">
        <TeamList />
      </RequireRole>
    </form>
  )
}

function TeamList() {
  const members = trpc.team.members.useQuery()
  return (
    <ul>
      {members.data?.map((member) => (
        <li key={member.id}>
          {member.name} ({member.role})
        </li>
      ))}
    </ul>
  )
}
