/**
 * The admin console's layout: requires at least the admin role (UX only; every `admin.*`
 * procedure is a `roleProcedure('admin')` on the server). Others are sent to the dashboard with a
 * note saying why. A small sub-navigation leads between the console's sections.
 */
import { Link, Outlet, createFileRoute, redirect } from '@tanstack/react-router'
import type { ReactNode } from 'react'
import { satisfiesRole } from '../../lib/roles'

export const Route = createFileRoute('/_authed/admin')({
  beforeLoad: ({ context }) => {
    if (!satisfiesRole(context.viewer.user.role, 'admin')) throw redirect({ to: '/app', search: { notice: 'role-required', role: 'admin' } })
  },
  component: AdminLayout,
})

const SECTION_LINK_CLASS =
  'whitespace-nowrap border-b-2 border-transparent px-1 pb-2 text-sm font-medium text-slate-600 hover:border-slate-300 hover:text-slate-900 ' +
  'focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ' +
  // The router marks the current section `data-status="active"` (and `aria-current="page"`).
  'data-[status=active]:border-indigo-600 data-[status=active]:text-slate-900'

function SectionLink({ to, exact = false, children }: { to: '/admin' | '/admin/domains' | '/admin/sso'; exact?: boolean; children: ReactNode }) {
  return (
    <Link to={to} className={SECTION_LINK_CLASS} activeOptions={{ exact }}>
      {children}
    </Link>
  )
}

function AdminLayout() {
  return (
    <div className="flex flex-col gap-6">
      <nav aria-label="Admin console" className="-mb-2 flex gap-5 overflow-x-auto border-b border-slate-200">
        <SectionLink to="/admin" exact>
          People
        </SectionLink>
        <SectionLink to="/admin/domains">Domains</SectionLink>
        <SectionLink to="/admin/sso">Single sign-on</SectionLink>
      </nav>
      <Outlet />
    </div>
  )
}
