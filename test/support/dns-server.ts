/**
 * A real DNS server for tests: Debian's `dnsmasq-base` on a free loopback port, unprivileged.
 * `--local=/test/` answers NXDOMAIN at once for unknown names under `.test`; `--no-resolv` and
 * `--no-hosts` keep the machine's resolver and /etc/hosts out. dnsmasq reads TXT records only at
 * start (SIGHUP does not reload them), so changing records restarts it on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { createSocket } from 'node:dgram'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'

const DNSMASQ = '/usr/sbin/dnsmasq'
const READY_NAME = '_ready.gatehouse.test'
const START_TIMEOUT_MS = 5000

/** One TXT record: its character-strings (dnsmasq sends each as a separate chunk). */
export type TxtRecord = { name: string; strings: string[] }

export type TestDnsServer = {
  /** For `DNS_SERVERS` / `Resolver#setServers`. */
  server: string
  port: number
  /** Replaces every record (restarts dnsmasq on the same port). */
  setRecords: (records: TxtRecord[]) => Promise<void>
  /** Stops it; queries then fail (the "resolver down" case). */
  stop: () => Promise<void>
}

/** A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const socket = createSocket('udp4')
      socket.once('error', reject)
      socket.bind(0, '127.0.0.1', () => {
        const { port } = socket.address()
        socket.close(() => resolve(port))
      })
    })
    const isTcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (isTcpFree) return port
  }
  throw new Error('no free port for dnsmasq')
}

function txtArgument(record: TxtRecord): string {
  for (const part of [record.name, ...record.strings]) {
    if (part.includes(',')) throw new Error(`dnsmasq --txt-record cannot carry a comma: ${part}`)
  }
  return `--txt-record=${[record.name, ...record.strings].join(',')}`
}

async function waitUntilAnswering(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const resolver = new Resolver({ timeout: 200, tries: 1 })
  resolver.setServers([`127.0.0.1:${port}`])
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited with ${child.exitCode}: ${output()}`)
    try {
      await resolver.resolveTxt(READY_NAME)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  throw new Error(`dnsmasq did not answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms: ${output()}`)
}

/** Starts dnsmasq serving `records` (plus a readiness record) on a free loopback port. */
export async function startTestDnsServer(records: TxtRecord[] = []): Promise<TestDnsServer> {
  if (!existsSync(DNSMASQ)) throw new Error(`${DNSMASQ} is missing: apt-get install dnsmasq-base (.ci/run does)`)
  const port = await findFreePort()
  let child: ChildProcess | null = null

  const start = async (current: TxtRecord[]) => {
    let output = ''
    const args = [
      '--no-daemon',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--local=/test/',
      // No pid file, no user switch: runs as whoever runs the tests.
      '--pid-file=',
      '--user=',
      '--conf-file=/dev/null',
      txtArgument({ name: READY_NAME, strings: ['ready'] }),
      ...current.map(txtArgument),
    ]
    const started = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    started.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child = started
    await waitUntilAnswering(port, started, () => output)
  }

  const stop = async () => {
    const running = child
    child = null
    if (!running || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGTERM')
    })
  }

  await start(records)
  return {
    server: `127.0.0.1:${port}`,
    port,
    setRecords: async (next) => {
      await stop()
      await start(next)
    },
    stop,
  }
}
