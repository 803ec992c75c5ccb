/**
 * Stored XSS through a mail's HTML part on /dev/outbox (CWE-79). The outbox page lives on the
 * app's origin and lists live reset links for every account; a template that one day forgets to
 * escape a user agent or a name would put an attacker's markup there. The page shows HTML parts in
 * an `<iframe sandbox srcdoc>` (src/components/dev/outbox-html-part.tsx): the hostile part below
 * must run no script — not inline, not from an event handler — and reach nothing of the page, in a
 * real browser, under the development CSP (which allows inline script, so only the sandbox stands
 * in the way). The control shows the same part, framed without the sandbox, does get through.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { OutboxHtmlPart } from '../../src/components/dev/outbox-html-part'
import { applySecurityHeaders } from '../../src/server/http/security-headers'
import { launchBrowser, newIsolatedContext } from './browser'

/** What an unescaped value in a template could smuggle in: inline script, an event handler, a form. */
const HOSTILE_HTML = [
  '<p id="greeting">Someone signed in to your account.</p>',
  '<script>top.document.title = "pwned by script: " + top.document.cookie</script>',
  '<form id="steal" action="/steal" method="post"><input name="x" value="y"></form>',
  '<img src="/missing.png" onerror="top.document.body.dataset.pwned = \'onerror\'; document.getElementById(\'steal\').submit()">',
].join('\n')

const PAGE_TITLE = 'Dev outbox'

let server: Server
let origin: string
let browser: Browser
const stolenPosts: string[] = []

/** Serves `body` as the app would in development: its security headers and a session cookie. */
function pageWith(body: string): string {
  return `<!doctype html><html><head><title>${PAGE_TITLE}</title></head><body>${body}</body></html>`
}

const pages: Record<string, string> = {
  '/outbox': pageWith(renderToStaticMarkup(createElement(OutboxHtmlPart, { subject: 'New sign-in', html: HOSTILE_HTML }))),
  // The control: the same part framed without the sandbox.
  '/unsandboxed': pageWith(`<iframe srcdoc="${HOSTILE_HTML.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"></iframe>`),
}

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.method === 'POST') stolenPosts.push(request.url ?? '')
    const html = pages[request.url ?? '']
    const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'gatehouse_session=live-session-token; Path=/; SameSite=Lax' })
    applySecurityHeaders(headers, { isDevelopment: true, isHttps: false })
    response.writeHead(html ? 200 : 404, Object.fromEntries(headers))
    response.end(html ?? '')
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await launchBrowser()
})

beforeEach(() => {
  stolenPosts.length = 0
})

afterAll(async () => {
  await browser?.close()
  await new Promise((closed) => server?.close(closed))
})

async function openPage(path: string): Promise<Page> {
  const page = await (await newIsolatedContext(browser)).newPage()
  await page.goto(`${origin}${path}`)
  return page
}

/** Whatever the hostile part managed to do to the page that framed it. */
async function tracesOnPage(page: Page) {
  // Long enough for the frame to load, its image to fail and a form submission to be sent.
  await page.waitForTimeout(500)
  return { title: await page.title(), pwned: await page.evaluate(() => document.body.dataset.pwned ?? null), stolenPosts: [...stolenPosts] }
}

describe('an HTML part on the dev outbox page', () => {
  it('control: framed without the sandbox, the same part runs its script on the page', async () => {
    const page = await openPage('/unsandboxed')
    await expect
      .poll(() => tracesOnPage(page))
      .toEqual({ title: 'pwned by script: gatehouse_session=live-session-token', pwned: 'onerror', stolenPosts: ['/steal'] })
    await page.context().close()
  })

  it('a hostile HTML part runs no script, fires no handler, submits no form and reads nothing of the page', async () => {
    const page = await openPage('/outbox')
    await page.getByText('HTML part').click()
    const frame = page.frameLocator('iframe[sandbox]')
    // The part is rendered (a sandboxed srcdoc is allowed by the page's CSP and frame rules)…
    await expect.poll(() => frame.locator('#greeting').textContent()).toBe('Someone signed in to your account.')

    // …and nothing in it got out.
    expect(await tracesOnPage(page)).toEqual({ title: PAGE_TITLE, pwned: null, stolenPosts: [] })
    // An opaque origin: the page cannot reach into the frame's document either, nor it into ours.
    expect(await page.evaluate(() => document.querySelector('iframe')!.contentDocument)).toBeNull()
    // The source view shows the markup as text.
    await page.getByText('Source').click()
    expect(await page.locator('pre').textContent()).toBe(HOSTILE_HTML)
    await page.context().close()
  })
})
