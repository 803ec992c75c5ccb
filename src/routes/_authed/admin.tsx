/**
 * The admin console's layout: requires at least the admin role (UX only; every `admin.*`
 * procedure is a `roleProcedure('admin')` on the server). Others are sent to the dashboard with a
 * note saying why.
 */
import { Outlet, createFileRoute, redirect } from '@tanstack/react-router'
import { satisfiesRole } from '../../lib/roles'

export const Route = createFileRoute('/_authed/admin')({
  beforeLoad: ({ context }) => {
    if (!satisfiesRole(context.viewer.user.role, 'admin')) throw redirect({ to: '/app', search: { notice: 'admin-required' } })
  },
  component: Outlet,
})
