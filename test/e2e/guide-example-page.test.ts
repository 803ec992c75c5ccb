/**
 * docs/guide.md's example page, used the way the guide tells a developer to use it: in a copy of
 * the project the example routers are registered in `src/server/trpc/root.ts` (section 2) and
 * `ProfilePage` (section 3) is mounted under the `_authed` layout (section 4). The copy is built and
 * started, and Chromium checks that the page really works: the guard, the role-gated team list,
 * a sensitive mutation, and `withReauth` retrying it after the re-auth dialog. Every test also
 * fails on an uncaught error or a console error in the page (a hydration mismatch arrives as an
 * uncaught "Minified React error #418"). test/integration/guide-examples.test.ts covers the example router's guards without a browser.
 */
import { eq } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { users } from '../../db/schema'
import type { DatabaseHandle } from '../../src/server/db/client'
import { startChangedProjectCopy, type RunningProjectCopy } from '../setup/project-copy'
import { launchBrowser, newIsolatedContext } from './browser'
import {
  ageReauthentication,
  collectPageErrors,
  connectToAppDatabase,
  createE2eOrganization,
  createE2eUser,
  signInThroughUi,
  submitLoginForm,
  waitForHydration,
  type E2eUser,
} from './fixtures'

/** Section 4: a page under `src/routes/_authed/` is behind the signed-in guard. */
const GUIDE_PROFILE_ROUTE = `import { createFileRoute } from '@tanstack/react-router'
import { ProfilePage } from '../../../docs/examples/profile-page'

export const Route = createFileRoute('/_authed/guide-profile')({
  component: ProfilePage,
})
`

/**
 * Section 4: a role-only page outside the admin console, whole — its own `beforeLoad`, the data
 * primed in the `loader` (in the first HTML), and the app's typed hooks once the router is in
 * `appRouter`. Quoted by the guide; this test proves it builds and behaves.
 */
const GUIDE_TEAM_ROUTE = `import { createFileRoute, redirect } from '@tanstack/react-router'
import { satisfiesRole } from '../../lib/roles'
import { trpc } from '../../lib/trpc'

export const Route = createFileRoute('/_authed/guide-team')({
  // UX only: team.members itself refuses a member with FORBIDDEN.
  beforeLoad: ({ context }) => {
    if (!satisfiesRole(context.viewer.user.role, 'admin')) throw redirect({ to: '/app', search: { notice: 'role-required', role: 'admin' } })
  },
  // Runs during SSR too: the list is in the first HTML, and useQuery below finds it in the cache.
  loader: ({ context }) => context.trpcUtils.team.members.ensureData(),
  component: TeamPage,
})

function TeamPage() {
  const members = trpc.team.members.useQuery()
  return (
    <ul aria-label="Team">
      {members.data?.map((member) => (
        <li key={member.id}>
          {member.name} ({member.role})
        </li>
      ))}
    </ul>
  )
}
`

const ROOT_ROUTER_FILE = 'src/server/trpc/root.ts'

describe('the guide’s example page, registered as the guide says, in a real browser', () => {
  let server: RunningProjectCopy
  let browser: Browser
  let database: DatabaseHandle

  beforeAll(async () => {
    server = await startChangedProjectCopy({
      runId: inject('runId'),
      name: 'e2e_guide_page',
      include: ['docs/examples'],
      change: (copy) => {
        // Section 2: "Add the router to `appRouter` in src/server/trpc/root.ts".
        copy.replaceOnce(
          ROOT_ROUTER_FILE,
          "import { createCallerFactory, createTRPCRouter } from './init'\n",
          "import { profileRouter, teamRouter } from '../../../docs/examples/profile-router'\nimport { createCallerFactory, createTRPCRouter } from './init'\n",
        )
        copy.replaceOnce(ROOT_ROUTER_FILE, 'export const appRouter = createTRPCRouter({\n', 'export const appRouter = createTRPCRouter({\n  profile: profileRouter,\n  team: teamRouter,\n')
        copy.writeFile('src/routes/_authed/guide-profile.tsx', GUIDE_PROFILE_ROUTE)
        copy.writeFile('src/routes/_authed/guide-team.tsx', GUIDE_TEAM_ROUTE)
      },
    })
    console.info(`[guide-example-page] build of the copy: ${server.buildSeconds.toFixed(1)} s`)
    browser = await launchBrowser()
    database = connectToAppDatabase(server.databaseUrl)
  }, 240_000)

  afterAll(async () => {
    await database?.pool.end()
    await browser?.close()
    await server?.stopAndRemove()
  })

  /** A fresh organization with an admin and a member (each test its own, so renames stay local). */
  async function createTeam(organizationName: string) {
    const organization = await createE2eOrganization(database, organizationName)
    const admin = await createE2eUser(database, { name: `${organizationName} Admin`, role: 'admin', organizationId: organization.id, emailPrefix: 'admin' })
    const member = await createE2eUser(database, { name: `${organizationName} Member`, role: 'member', organizationId: organization.id, emailPrefix: 'member' })
    return { organization, admin, member }
  }

  async function readName(userId: string): Promise<string | undefined> {
    const [row] = await database.db.select({ name: users.name }).from(users).where(eq(users.id, userId))
    return row?.name
  }

  /** A new browser context signed in as `user`, on /guide-profile, hydrated; records errors and tRPC calls. */
  async function openGuideProfileAs(user: E2eUser) {
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)
    const trpcResponses: { url: string; status: number }[] = []
    page.on('response', (response) => {
      if (response.url().includes('/api/trpc/')) trpcResponses.push({ url: response.url(), status: response.status() })
    })
    await signInThroughUi(page, server.url, user)
    const response = await page.goto(`${server.url}/guide-profile`)
    const firstHtml = await response!.text()
    await waitForHydration(page)
    return { context, page, errors, trpcResponses, firstHtml }
  }

  /** The HTTP statuses of the calls to `path` so far (a batched URL names every procedure in it). */
  function statusesOf(responses: { url: string; status: number }[], path: string): number[] {
    return responses.filter((response) => new URL(response.url).pathname.split('/').at(-1)!.split(',').includes(path)).map((response) => response.status)
  }

  function profileForm(page: Page) {
    return page.locator('form', { has: page.getByRole('button', { name: 'Save', exact: true }) })
  }

  it('a role-only page: a member is sent to the dashboard with the reason; an admin gets the list in the first HTML', async () => {
    const { admin, member } = await createTeam('Role Page')
    const memberContext = await newIsolatedContext(browser)
    const memberPage = await memberContext.newPage()
    const memberErrors = collectPageErrors(memberPage)
    await signInThroughUi(memberPage, server.url, member)
    await memberPage.goto(`${server.url}/guide-team`)
    expect(memberPage.url()).toBe(`${server.url}/app?notice=role-required&role=admin`)
    await memberPage.getByText('That page needs the Admin role.', { exact: false }).waitFor()
    expect(memberErrors).toEqual([])
    await memberContext.close()

    const adminContext = await newIsolatedContext(browser)
    const adminPage = await adminContext.newPage()
    const adminErrors = collectPageErrors(adminPage)
    await signInThroughUi(adminPage, server.url, admin)
    const firstHtml = await (await adminPage.goto(`${server.url}/guide-team`))!.text()
    // Primed by the loader during SSR: the names are in the HTML before any script runs.
    expect(firstHtml).toContain(`${admin.name}`)
    expect(firstHtml).toContain(`${member.name}`)
    await waitForHydration(adminPage)
    expect((await adminPage.getByRole('list', { name: 'Team' }).getByRole('listitem').allTextContents()).sort()).toEqual([`${admin.name} (admin)`, `${member.name} (member)`])
    expect(adminErrors).toEqual([])
    await adminContext.close()
  })

  it('sends a signed-out visitor to the login page and back to the page after signing in', async () => {
    const { organization, member } = await createTeam('Northwind')
    const context = await newIsolatedContext(browser)
    const page = await context.newPage()
    const errors = collectPageErrors(page)

    await page.goto(`${server.url}/guide-profile`)
    expect(page.url()).toBe(`${server.url}/login?redirect=%2Fguide-profile`)

    await submitLoginForm(page, member)
    await page.waitForURL(`${server.url}/guide-profile`)
    await profileForm(page).getByText(`Organization: ${organization.name}`).waitFor()
    expect(errors).toEqual([])
    await context.close()
  })

  it('shows a member their organization and no team list, without ever asking for it', async () => {
    const { organization, member } = await createTeam('Member View')
    const { context, page, errors, trpcResponses, firstHtml } = await openGuideProfileAs(member)
    const form = profileForm(page)

    // profile.me is not fetched during SSR: the first HTML must not claim "no organization" meanwhile.
    const firstForm = /<form method="post">.*?<\/form>/s.exec(firstHtml)?.[0]
    expect(firstForm).toContain('Organization:')
    expect(firstForm).not.toMatch(/Organization: (<!-- -->)?none/)
    await form.getByText(`Organization: ${organization.name}`).waitFor()
    expect(await form.getByLabel('Name').inputValue()).toBe(member.name)
    expect(await form.getByRole('list').count()).toBe(0)
    // <RequireRole role="admin"> kept TeamList unmounted, so team.members was never called.
    expect(statusesOf(trpcResponses, 'team.members')).toEqual([])
    expect(errors).toEqual([])
    await context.close()
  })

  it('shows an admin the members of their own organization only', async () => {
    const { admin, member } = await createTeam('Admin View')
    const outsider = await createTeam('Elsewhere')
    const { context, page, errors } = await openGuideProfileAs(admin)
    const teamList = profileForm(page).getByRole('list')

    await expect.poll(async () => (await teamList.getByRole('listitem').allTextContents()).sort()).toEqual([`${admin.name} (admin)`, `${member.name} (member)`])
    expect(await teamList.textContent()).not.toContain(outsider.admin.name)
    expect(errors).toEqual([])
    await context.close()
  })

  it('lets an admin who just signed in rename themself, with no re-auth prompt', async () => {
    const { admin } = await createTeam('Fresh Rename')
    const { context, page, errors, trpcResponses } = await openGuideProfileAs(admin)
    const form = profileForm(page)

    await form.getByLabel('Name').fill('Ada Renamed')
    await form.getByRole('button', { name: 'Save', exact: true }).click()
    await expect.poll(() => readName(admin.id)).toBe('Ada Renamed')
    // The database changes before the browser has the answer: wait for it.
    await expect.poll(() => statusesOf(trpcResponses, 'profile.rename')).toEqual([200])
    expect(await page.getByRole('dialog').count()).toBe(0)
    expect(errors).toEqual([])
    await context.close()
  })

  it('asks a stale session to confirm the password, then retries the rename by itself', async () => {
    const { member } = await createTeam('Stale Rename')
    const { context, page, errors, trpcResponses } = await openGuideProfileAs(member)
    await ageReauthentication(database, member.id)
    const form = profileForm(page)

    await form.getByLabel('Name').fill('Max Renamed')
    await form.getByRole('button', { name: 'Save', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await dialog.waitFor()
    expect(await readName(member.id)).toBe(member.name)

    await dialog.getByLabel('Password').fill(member.password)
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => readName(member.id)).toBe('Max Renamed')
    await expect.poll(() => dialog.count()).toBe(0)
    // One click on Save: the refused call (REAUTH_REQUIRED) and withReauth's retry.
    await expect.poll(() => statusesOf(trpcResponses, 'profile.rename')).toEqual([403, 200])
    expect(errors).toEqual([])
    await context.close()
  })

  it('cancelling the re-auth dialog changes nothing and leaves no uncaught error', async () => {
    const { member } = await createTeam('Cancelled Rename')
    const { context, page, errors } = await openGuideProfileAs(member)
    await ageReauthentication(database, member.id)
    const form = profileForm(page)

    await form.getByLabel('Name').fill('Never Saved')
    await form.getByRole('button', { name: 'Save', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await expect.poll(() => dialog.count()).toBe(0)
    // The rejected rename settles (Save enabled again) before the checks.
    await expect.poll(() => form.getByRole('button', { name: 'Save', exact: true }).isEnabled()).toBe(true)
    expect(await readName(member.id)).toBe(member.name)
    expect(errors).toEqual([])
    await context.close()
  })
})
