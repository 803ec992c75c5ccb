/**
 * Browser harness: Playwright driving Debian's Chromium (`/usr/bin/chromium`; no browser
 * download works here). Every context blocks non-local URLs so nothing waits on the network.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

/** Launches headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true })
}

/** A fresh context (its own cookies) that only reaches loopback hosts. */
export async function newIsolatedContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext()
  await context.route(/^(?!https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/)/, (route) => route.abort())
  return context
}
