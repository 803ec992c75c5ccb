/**
 * Server-only: what a request is aimed at (a server function, a listed API route, something else
 * under `/api/`, or a page), decided once per request from the path Start itself will route on.
 *
 * Threat: a policy keyed on the raw, still percent-encoded path can be walked around. Start decodes
 * the path before it dispatches, so `/%5FserverFn/<id>`, `/%5fserverFn/<id>` and
 * `/_server%46n/<id>` all run the server function `<id>`; a pipeline that asked
 * `pathname.startsWith('/_serverFn/')` saw a page GET and applied no CSRF rule (black-box review:
 * a cross-site call read the victim's data with a 200 and no `[csrf]` line). The same trick would
 * move `/%61pi/…` out of the API route table.
 *
 * So the classification runs on the output of `getNormalizedURL`, the very function Start's
 * handler (`createStartHandler`) calls before it classifies and routes. What that means for the
 * spellings an attacker would try:
 * - `%XX` is decoded once, any hex case; a double-encoded `%255F` stays `%255F` (neither side
 *   decodes twice), and `%25` / `%5C` are never decoded;
 * - `%2F` stays `%2F` (`decodeURI` keeps reserved characters), so it never becomes a separator:
 *   `/_serverFn%2F<id>` is one segment for both of us, a page that does not exist;
 * - dot segments (`.`, `..`, `%2e%2e`) are resolved by the WHATWG URL parser before either of us
 *   looks, and again after decoding;
 * - a leading `//` collapses to `/` (Start answers it with a 308 to that path);
 * - `/API/…` is `/api/…` (Start's router ignores case in static segments); `/_SERVERFN/` is not a
 *   server-function call for Start, nor for us.
 * Malformed percent-encoding makes Start answer 400 before routing; `resolveRequestTarget` returns
 * null for it so the pipeline answers the same without classifying.
 *
 * Start's server-function middleware (`src/start.ts`) repeats the CSRF check for every call Start
 * dispatches as a server function, so even a spelling this module got wrong stays refused.
 */
import { getNormalizedURL } from '@tanstack/react-router/ssr/server'
import { findApiRoute, type ApiRoute } from './api-routes'
import { SERVER_FN_BASE } from './server-fn-requests'

export type RequestTarget = {
  /** The path as routing sees it (decoded once). Log the raw one: it is what the client sent. */
  routedPathname: string
  /**
   * For a server-function call, the function id as Start reads it (the first segment after
   * `/_serverFn/`, possibly empty); null for every other request.
   */
  serverFnId: string | null
  /** The route table's entry for the path, or null. */
  apiRoute: ApiRoute | null
  /** Anything under `/api/`, listed or not: an unlisted one is never treated as a page. */
  isUnderApi: boolean
}

/** True when `pathname` is malformed percent-encoding, which Start refuses with 400 (`runInStartRequest`). */
function hasMalformedEncoding(pathname: string): boolean {
  if (!pathname.includes('%')) return false
  try {
    decodeURI(pathname)
    return false
  } catch {
    return true
  }
}

/** The path Start will route `url` on; null when Start would answer 400 instead of routing. */
export function getRoutedPathname(url: URL): string | null {
  if (hasMalformedEncoding(url.pathname)) return null
  return getNormalizedURL(url).url.pathname
}

/** Classifies a request by its routed path; null for a path Start would refuse with 400. */
export function resolveRequestTarget(url: URL): RequestTarget | null {
  const routedPathname = getRoutedPathname(url)
  if (routedPathname === null) return null
  // Case-insensitive like Start's router (`/API/health` serves the health route); the server-function
  // prefix is not: Start compares it with a case-sensitive `startsWith`, and so do we.
  const isUnderApi = routedPathname.slice(0, 5).toLowerCase() === '/api/'
  return {
    routedPathname,
    serverFnId: routedPathname.startsWith(SERVER_FN_BASE) ? routedPathname.slice(SERVER_FN_BASE.length).split('/')[0]! : null,
    apiRoute: isUnderApi ? findApiRoute(routedPathname) : null,
    isUnderApi,
  }
}

/** True when `request` is a browser's call to a server function, whatever spelling its path uses. */
export function isServerFnHttpRequest(request: Request): boolean {
  const target = resolveRequestTarget(new URL(request.url))
  return target !== null && target.serverFnId !== null
}
