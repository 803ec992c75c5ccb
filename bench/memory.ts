/**
 * `npx tsx bench/memory.ts [-- node flags]`: the production server's memory at idle (issue 11
 * item 12). Builds nothing: run `npm run build` first. Starts `scripts/start.mjs` on a fresh
 * database, warms it (home page, sign-up, sign-in, `auth.me`, a password check), waits, then reads
 * VmRSS / RssAnon / RssFile from /proc and the V8 heap from the process itself (SIGUSR2 with
 * GATEHOUSE_DEBUG_MEMORY=1), and drops the database it created.
 *
 * The server runs with `npm start`'s flags (`--max-semi-space-size=8`) unless
 * GATEHOUSE_BENCH_NODE_FLAGS says otherwise ("none" for V8's defaults, or other flags).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import mysql from 'mysql2/promise'
import { databaseUrlOn, resolveDatabaseServer } from '../src/server/db/resolve-database'
import { migrateDatabase } from '../src/server/db/migrate'
import { getFreePort } from '../test/setup/app-server'
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
  const port = await getFreePort()
  const url = `http://127.0.0.1:${port}`
  const requestedFlags = process.env.GATEHOUSE_BENCH_NODE_FLAGS ?? '--max-semi-space-size=8'
  const nodeFlags = requestedFlags === 'none' ? [] : requestedFlags.split(' ').filter(Boolean)
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, 'scripts/start.mjs'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: url,
      APP_SECRET: randomBytes(32).toString('base64url'),
      DATABASE_URL: databaseUrl,
      MAIL_TRANSPORT: 'outbox',
      GATEHOUSE_DEBUG_MEMORY: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        if ((await fetch(`${url}/api/health`)).ok) break
      } catch {}
      await sleep(100)
    }
    const afterStart = procStatus(child.pid!)
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
    const cpuBefore = readCpuMs(child.pid!)
    const started = performance.now()
    const LOAD_ROUNDS = 250
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/api/trpc/auth.me`, { headers: { cookie } }).then((response) => response.text())))
      if (round % 5 === 0) await fetch(url, { headers: { cookie } }).then((response) => response.text())
    }
    const requests = LOAD_ROUNDS * 8 + LOAD_ROUNDS / 5
    const cpuPerRequest = (readCpuMs(child.pid!) - cpuBefore) / requests
    const wallSeconds = (performance.now() - started) / 1000
    await sleep(3_000)
    child.kill('SIGUSR2')
    await sleep(1_000)
    const idle = procStatus(child.pid!)
    const heap = JSON.parse(output.match(/\[gatehouse\] memory (\{.*\})/)?.[1] ?? '{}') as NodeJS.MemoryUsage
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
    console.log(`node flags: ${nodeFlags.join(' ') || '(none)'}`)
    console.log(`after start: VmRSS ${afterStart.VmRSS}  (threads ${afterStart.Threads})`)
    console.log(`idle, warmed: VmRSS ${idle.VmRSS}  RssAnon ${idle.RssAnon}  RssFile ${idle.RssFile}  VmHWM ${idle.VmHWM}  threads ${idle.Threads}`)
    console.log(`load: ${requests} requests (auth.me ×8 concurrent, a page every 5th round): ${cpuPerRequest.toFixed(3)} ms CPU/request, ${(requests / wallSeconds).toFixed(0)} req/s`)
    console.log(`V8 after GC: heapUsed ${mb(heap.heapUsed)}  heapTotal ${mb(heap.heapTotal)}  external ${mb(heap.external)}  arrayBuffers ${mb(heap.arrayBuffers)}  rss ${mb(heap.rss)}`)
  } finally {
    child.kill('SIGTERM')
    const connection = await mysql.createConnection({ uri: serverUrl })
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await connection.end()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
