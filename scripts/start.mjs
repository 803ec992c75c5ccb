/**
 * Production entry: serves `dist/client` as static files and everything else through the Start
 * server bundle (`dist/server/server.js`, a fetch handler). On SIGTERM/SIGINT it stops accepting
 * connections, lets in-flight requests finish, then runs the app's shutdown hooks (closing the
 * MySQL pool) so the process exits by itself.
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

async function main() {
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
  // Never let a stray socket error bubble into an 'error' event that nobody handles.
  server.on('clientError', (_error, socket) => socket.destroy())
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
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error) => {
  console.error(`[gatehouse] refusing to start: ${error?.message ?? error}`)
  process.exit(1)
})
