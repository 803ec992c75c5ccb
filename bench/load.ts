/**
 * Closed-loop HTTP load from the bench process: N workers, each sending its next request as soon
 * as the previous answered, over keep-alive connections (node:http Agent; undici is not a
 * dependency). Every latency is kept, so percentiles are exact, not estimated.
 */
import { Agent, request } from 'node:http'

export type HttpTarget = {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  /** A fresh body per call (sign-in bursts vary the account). */
  body?: () => string
}

export type HttpResult = { status: number; body: string; latencyMs: number }

export type LoadSample = {
  requests: number
  /** Responses other than 200 and transport failures. */
  errors: number
  elapsedMs: number
  latenciesMs: number[]
  responseBytes: number
}

/** One request over the given agent; resolves with status, body and latency (never rejects). */
export function sendRequest(target: HttpTarget, agent?: Agent): Promise<HttpResult> {
  const started = performance.now()
  const body = target.body?.()
  return new Promise((resolve) => {
    const req = request(
      target.url,
      {
        method: target.method ?? 'GET',
        agent,
        headers: body === undefined ? target.headers : { ...target.headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), latencyMs: performance.now() - started }),
        )
        res.on('error', () => resolve({ status: 0, body: '', latencyMs: performance.now() - started }))
      },
    )
    req.on('error', () => resolve({ status: 0, body: '', latencyMs: performance.now() - started }))
    req.end(body)
  })
}

/**
 * Runs `concurrency` closed-loop workers against one target for `durationMs`. A fresh agent per
 * call: connections never outlive a round, so no round inherits a socket the server is about to
 * close for idleness (the other targets' rounds run longer than the 5 s keep-alive timeout).
 */
export async function runClosedLoop(target: HttpTarget, options: { concurrency: number; durationMs: number }): Promise<LoadSample> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const sample: LoadSample = { requests: 0, errors: 0, elapsedMs: 0, latenciesMs: [], responseBytes: 0 }
  const started = performance.now()
  const deadline = started + options.durationMs
  const worker = async () => {
    while (performance.now() < deadline) {
      const result = await sendRequest(target, agent)
      sample.requests++
      sample.latenciesMs.push(result.latencyMs)
      sample.responseBytes += Buffer.byteLength(result.body)
      if (result.status !== 200) sample.errors++
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  sample.elapsedMs = performance.now() - started
  agent.destroy()
  return sample
}

/** Runs closed-loop workers until `stop()` is called (a probe running beside another workload). */
export function startBackgroundLoad(target: HttpTarget, concurrency: number): { stop: () => Promise<LoadSample> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const sample: LoadSample = { requests: 0, errors: 0, elapsedMs: 0, latenciesMs: [], responseBytes: 0 }
  let isStopping = false
  const started = performance.now()
  const worker = async () => {
    while (!isStopping) {
      const result = await sendRequest(target, agent)
      sample.requests++
      sample.latenciesMs.push(result.latencyMs)
      sample.responseBytes += Buffer.byteLength(result.body)
      if (result.status !== 200) sample.errors++
    }
  }
  const running = Promise.all(Array.from({ length: concurrency }, worker))
  return {
    stop: async () => {
      isStopping = true
      await running
      sample.elapsedMs = performance.now() - started
      agent.destroy()
      return sample
    },
  }
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}
