/**
 * Production entry: serves `dist/client` as static files and everything else through the Start
 * server bundle (`dist/server/server.js`, a fetch handler). On SIGTERM/SIGINT it stops accepting
 * connections, lets in-flight requests finish, then runs the app's shutdown hooks (closing the
 * MySQL pool) so the process exits by itself.
 *
 * Run it as `node --max-semi-space-size=8 scripts/start.mjs` (what `npm start`, the Dockerfile and
 * the test harness do). On a machine with many GB of RAM, V8 lets the young generation grow to
 * ~134 MB while the app loads and keeps it: ~100 MB of the idle process's ~280 MB RSS, for a live
 * heap of ~40 MB. Capped at 8 MB per semi-space the idle RSS is ~175 MB at the same CPU per
 * request within measurement noise (`bench/memory.ts`, ADR 012). The flag must be on the command
 * line: V8 sizes the heap before any script runs.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { toNodeHandler } from 'srvx/node'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const clientDir = join(root, 'dist/client')
const DRAIN_TIMEOUT_MS = 10_000

const CONTENT_TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
}

/** Every file of the client build, listed once: a request path is served only if it is in here (no path traversal, no stat per request). */
function listStaticFiles(dir) {
  const files = new Map()
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else files.set(`/${relative(dir, full).split('\\').join('/')}`, { path: full, size: statSync(full).size })
    }
  }
  walk(dir)
  return files
}

/** Parser error codes (llhttp, via node:http) → the status that names the problem. */
const CLIENT_ERROR_STATUS = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'Bad Request'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'Bad Request'],
  HPE_INVALID_TRANSFER_ENCODING: [400, 'Bad Request'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large'],
  HPE_INVALID_METHOD: [400, 'Bad Request'],
  HPE_INVALID_URL: [400, 'Bad Request'],
  HPE_INVALID_HEADER_TOKEN: [400, 'Bad Request'],
  HPE_INVALID_VERSION: [400, 'Bad Request'],
  HPE_INVALID_CONSTANT: [400, 'Bad Request'],
  HPE_LF_EXPECTED: [400, 'Bad Request'],
  HPE_CR_EXPECTED: [400, 'Bad Request'],
  HPE_INVALID_CHUNK_SIZE: [400, 'Bad Request'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
}

/** Writes a minimal `Connection: close` answer for a request the parser refused, then closes the socket. */
function answerClientError(error, socket) {
  const [status, reason] = CLIENT_ERROR_STATUS[error?.code] ?? [400, 'Bad Request']
  // Nothing can be written once the socket is gone, or once a response has started on it
  // (`_httpMessage` is the response node attached to this socket).
  const isWritable = socket.writable && !socket._httpMessage?.headersSent && error?.code !== 'ECONNRESET'
  if (isWritable) {
    const body = `${reason}\n`
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    // A client that never reads must not hold the socket open.
    setTimeout(() => socket.destroy(), 1_000).unref()
  } else {
    socket.destroy()
  }
}

/** True when this process was started with a cap on V8's young generation (flag or NODE_OPTIONS). */
function hasSemiSpaceCap() {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => flag.startsWith('--max-semi-space-size'))
}

async function main() {
  if (!hasSemiSpaceCap()) {
    console.warn('[gatehouse] started without --max-semi-space-size: idle memory will be ~100 MB higher (use `npm start`; ADR 012)')
  }
  // Importing the bundle validates APP_SECRET / APP_URL / DATABASE_URL (src/server.ts) before
  // anything listens: a misconfigured production server must not start at all.
  const { default: app } = await import(join(root, 'dist/server/server.js'))
  const appHandler = toNodeHandler(app.fetch.bind(app))
  const staticFiles = listStaticFiles(clientDir)

  const server = createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0]
    const file = (req.method === 'GET' || req.method === 'HEAD') && staticFiles.get(pathname)
    if (file) {
      res.setHeader('content-type', CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream')
      res.setHeader('content-length', file.size)
      res.setHeader('x-content-type-options', 'nosniff')
      // Hashed asset names never change content: cache them for a year.
      res.setHeader('cache-control', pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600')
      if (req.method === 'HEAD') return res.end()
      const stream = createReadStream(file.path)
      stream.on('error', () => res.destroy())
      stream.pipe(res)
      return
    }
    // Body limits, methods, CSRF and security headers: the app's request pipeline (src/server/request-pipeline.ts).
    // A client that disconnects mid-response makes the handler reject (ECONNRESET / aborted).
    // Unhandled, that rejection would exit the process and drop every other user's request.
    Promise.resolve(appHandler(req, res)).catch((error) => {
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500
        res.end()
      } else {
        res.destroy()
      }
      if (!req.destroyed && error?.code !== 'ECONNRESET') console.error('[gatehouse] request failed:', error?.message ?? error)
    })
  })
  // A request node's parser refuses (headers over --max-http-header-size, a bad Content-Length,
  // malformed syntax) gets a minimal answer before the socket closes, instead of a silently
  // dropped connection a client or proxy cannot tell from a crash (RFC 9110 §15.5, RFC 6585 §5).
  // Never let a stray socket error bubble into an 'error' event that nobody handles.
  server.on('clientError', (error, socket) => answerClientError(error, socket))
  server.keepAliveTimeout = 5_000

  const port = Number(process.env.PORT ?? 3000)
  const host = process.env.HOST ?? '0.0.0.0'
  server.listen(port, host, () => {
    console.log(`[gatehouse] listening on http://${host}:${port} (${process.env.NODE_ENV})`)
  })

  let isShuttingDown = false
  const shutdown = async (signal) => {
    if (isShuttingDown) return
    isShuttingDown = true
    console.log(`[gatehouse] ${signal}: draining connections`)
    const forceExit = setTimeout(() => {
      console.error('[gatehouse] drain timed out; exiting')
      process.exit(1)
    }, DRAIN_TIMEOUT_MS)
    forceExit.unref()
    server.close(async () => {
      const hooks = globalThis[Symbol.for('gatehouse.shutdownHooks')]
      for (const hook of hooks ?? []) {
        try {
          await hook()
        } catch (error) {
          console.error('[gatehouse] shutdown hook failed:', error?.message ?? error)
        }
      }
      console.log('[gatehouse] stopped')
    })
    server.closeIdleConnections()
  }
  // Diagnostics for `bench/memory.ts`: GATEHOUSE_DEBUG_MEMORY=1 makes SIGUSR2 print the process's
  // memory figures (after a full GC when node runs with --expose-gc). Off by default.
  if (process.env.GATEHOUSE_DEBUG_MEMORY === '1') {
    process.on('SIGUSR2', () => {
      globalThis.gc?.()
      console.log(`[gatehouse] memory ${JSON.stringify(process.memoryUsage())}`)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error) => {
  console.error(`[gatehouse] refusing to start: ${error?.message ?? error}`)
  process.exit(1)
})
