/**
 * Server-only: constants for recognising Start server-function calls. The recognising itself is
 * `resolveRequestTarget` (`request-target.ts`): it must run on the decoded path Start routes on,
 * never on the raw one (`/%5FserverFn/<id>` is a server-function call too).
 */

/** Start's server-function path prefix (replaced at build time; `/_serverFn/` is Start's default). */
export const SERVER_FN_BASE = process.env.TSS_SERVER_FN_BASE ?? '/_serverFn/'

/**
 * Marks a server-function call the request pipeline refused, for Start's request middleware to
 * answer in Start's own wire format (so the client still reads `CSRF_REJECTED`). A client that sends
 * this header itself only gets its own call refused.
 */
export const CSRF_REFUSED_HEADER = 'x-gatehouse-csrf-refused'
