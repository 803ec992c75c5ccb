/**
 * `npx tsx bench/memory.ts [-- node flags]`: the production server's memory at idle (issue 11
 * item 12). Builds nothing: run `npm run build` first. Starts `scripts/start.mjs` on a fresh
 * database (through test/setup/app-server.ts, as the HTTP tests and `npm run bench` do), warms it (home page, sign-up, sign-in, `auth.me`, a password check), waits, then reads
 * VmRSS / RssAnon / RssFile from /proc and the V8 heap from the process itself (SIGUSR2 with
 * GATEHOUSE_DEBUG_MEMORY=1), and drops the database it created.
 *
 * The server runs with `npm start`'s flags (`--max-semi-space-size=8`) unless
 * GATEHOUSE_BENCH_NODE_FLAGS says otherwise ("none" for V8's defaults, or other flags).
 */
import { readFileSync } from 'node:fs'
import mysql from 'mysql2/promise'
import { databaseUrlOn, resolveDatabaseServer } from '../src/server/db/resolve-database'
import { migrateDatabase } from '../src/server/db/migrate'
import { NPM_START_NODE_FLAGS, startAppServer } from '../test/setup/app-server'
import { readCpuMs } from './proc-stats'

function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  )
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

async function main() {
  const { serverUrl } = await resolveDatabaseServer()
  const name = `gh_bench_mem_${process.pid}`
  const databaseUrl = databaseUrlOn(serverUrl, name)
  await migrateDatabase(databaseUrl)
  const requestedFlags = process.env.GATEHOUSE_BENCH_NODE_FLAGS
  const nodeFlags = requestedFlags === undefined ? NPM_START_NODE_FLAGS : requestedFlags === 'none' ? [] : requestedFlags.split(' ').filter(Boolean)
  // startAppServer, as the tests and `npm run bench` use it: up only when its own child says it
  // listens (a reused port's /api/health could answer from another process), and its pid is the
  // process measured below.
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined
  try {
    server = await startAppServer({
      runId: String(process.pid),
      name: 'memory',
      databaseUrl,
      nodeFlags: ['--expose-gc', ...nodeFlags],
      env: { MAIL_TRANSPORT: 'outbox', GATEHOUSE_DEBUG_MEMORY: '1' },
    })
    const { url, pid } = server
    const afterStart = procStatus(pid)
    const headers = { origin: url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }
    await fetch(url).then((response) => response.text())
    const email = `mem-${Date.now()}@example.test`
    const password = 'violet lantern harbour meadow 77'
    await fetch(`${url}/api/trpc/auth.signUp`, { method: 'POST', headers, body: JSON.stringify({ email, name: 'Mem', password }) }).then((response) => response.text())
    const signIn = await fetch(`${url}/api/trpc/auth.signIn`, { method: 'POST', headers, body: JSON.stringify({ email, password }) })
    const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? ''
    for (let i = 0; i < 50; i++) await fetch(`${url}/api/trpc/auth.me`, { headers: { cookie } }).then((response) => response.text())
    for (let i = 0; i < 5; i++) await fetch(url, { headers: { cookie } }).then((response) => response.text())
    // CPU per request under a little load, so a smaller young generation is not bought with CPU.
    const cpuBefore = readCpuMs(pid)
    const started = performance.now()
    const LOAD_ROUNDS = 250
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/api/trpc/auth.me`, { headers: { cookie } }).then((response) => response.text())))
      if (round % 5 === 0) await fetch(url, { headers: { cookie } }).then((response) => response.text())
    }
    const requests = LOAD_ROUNDS * 8 + LOAD_ROUNDS / 5
    const cpuPerRequest = (readCpuMs(pid) - cpuBefore) / requests
    const wallSeconds = (performance.now() - started) / 1000
    await sleep(3_000)
    process.kill(pid, 'SIGUSR2')
    await sleep(1_000)
    const idle = procStatus(pid)
    const heap = JSON.parse(server.output().match(/\[gatehouse\] memory (\{.*\})/)?.[1] ?? '{}') as NodeJS.MemoryUsage
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
    console.log(`node flags: ${nodeFlags.join(' ') || '(none)'}`)
    console.log(`after start: VmRSS ${afterStart.VmRSS}  (threads ${afterStart.Threads})`)
    console.log(`idle, warmed: VmRSS ${idle.VmRSS}  RssAnon ${idle.RssAnon}  RssFile ${idle.RssFile}  VmHWM ${idle.VmHWM}  threads ${idle.Threads}`)
    console.log(`load: ${requests} requests (auth.me ×8 concurrent, a page every 5th round): ${cpuPerRequest.toFixed(3)} ms CPU/request, ${(requests / wallSeconds).toFixed(0)} req/s`)
    console.log(`V8 after GC: heapUsed ${mb(heap.heapUsed)}  heapTotal ${mb(heap.heapTotal)}  external ${mb(heap.external)}  arrayBuffers ${mb(heap.arrayBuffers)}  rss ${mb(heap.rss)}`)
  } finally {
    await server?.stop()
    const connection = await mysql.createConnection({ uri: serverUrl })
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await connection.end()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
