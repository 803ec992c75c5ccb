/**
 * Turns raw samples into the bench's numbers, checks them against SPEC's Performance targets, and
 * prints the table. Targets are reported, never asserted: a timing is evidence, not a test.
 */
import { percentile, type LoadSample } from './load'
import type { SsoSummary } from './sso'

export type TargetKey = 'authMe' | 'publicInfo' | 'floor'

/** Everything measured for one target across all of its rounds. */
export type TargetTotals = {
  label: string
  /** False when the endpoint does not exist yet (auth.me answered 404). */
  isAvailable: boolean
  note: string | null
  requests: number
  errors: number
  elapsedMs: number
  latenciesMs: number[]
  responseBytes: number
  serverCpuMs: number
  databaseCpuMs: number | null
  sessionWrites: number
  roundRequestsPerSecond: number[]
}

export type TargetSummary = {
  label: string
  isAvailable: boolean
  note: string | null
  requests: number
  errors: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  serverCpuPerRequestMs: number
  databaseCpuPerRequestMs: number | null
  bytesPerResponse: number
  sessionWrites: number
  roundRequestsPerSecond: number[]
}

export type TargetCheck = { name: string; measured: number | null; target: string; isMet: boolean | null; detail: string }

/** A fresh accumulator. */
export function emptyTotals(label: string): TargetTotals {
  return {
    label,
    isAvailable: true,
    note: null,
    requests: 0,
    errors: 0,
    elapsedMs: 0,
    latenciesMs: [],
    responseBytes: 0,
    serverCpuMs: 0,
    databaseCpuMs: null,
    sessionWrites: 0,
    roundRequestsPerSecond: [],
  }
}

/** Adds one round's sample and the CPU the server (and database) spent during it. */
export function addRound(totals: TargetTotals, sample: LoadSample, cpu: { serverMs: number; databaseMs: number | null; sessionWrites: number }): void {
  totals.requests += sample.requests
  totals.errors += sample.errors
  totals.elapsedMs += sample.elapsedMs
  for (const latency of sample.latenciesMs) totals.latenciesMs.push(latency)
  totals.responseBytes += sample.responseBytes
  totals.serverCpuMs += cpu.serverMs
  if (cpu.databaseMs !== null) totals.databaseCpuMs = (totals.databaseCpuMs ?? 0) + cpu.databaseMs
  totals.sessionWrites += cpu.sessionWrites
  totals.roundRequestsPerSecond.push(round(sample.requests / (sample.elapsedMs / 1000), 0))
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** Rates, percentiles and per-request costs of one target. */
export function summarize(totals: TargetTotals): TargetSummary {
  const requests = Math.max(totals.requests, 1)
  return {
    label: totals.label,
    isAvailable: totals.isAvailable,
    note: totals.note,
    requests: totals.requests,
    errors: totals.errors,
    requestsPerSecond: totals.elapsedMs > 0 ? round(totals.requests / (totals.elapsedMs / 1000), 0) : 0,
    p50Ms: round(percentile(totals.latenciesMs, 50), 2),
    p99Ms: round(percentile(totals.latenciesMs, 99), 2),
    serverCpuPerRequestMs: round(totals.serverCpuMs / requests, 3),
    databaseCpuPerRequestMs: totals.databaseCpuMs === null ? null : round(totals.databaseCpuMs / requests, 3),
    bytesPerResponse: Math.round(totals.responseBytes / requests),
    sessionWrites: totals.sessionWrites,
    roundRequestsPerSecond: totals.roundRequestsPerSecond,
  }
}

export type BurstSummary = {
  isAvailable: boolean
  note: string | null
  probeLabel: string
  bursts: number
  signInsPerBurst: number
  signInStatuses: Record<string, number>
  signInP50Ms: number
  burstDurationP50Ms: number
  baselineProbeP99Ms: number
  probeRequests: number
  probeErrors: number
  probeP50Ms: number
  probeP99Ms: number
}

/** SPEC's Performance targets, each with what was measured (null when it could not be). */
export function checkTargets(targets: Record<TargetKey, TargetSummary>, burst: BurstSummary): TargetCheck[] {
  const { authMe, publicInfo, floor } = targets
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 2) : null)
  const hasAuthMe = authMe.isAvailable && authMe.requests > 0
  const throughputVsFloor = hasAuthMe ? ratio(authMe.requestsPerSecond, floor.requestsPerSecond) : null
  const throughputVsPublic = hasAuthMe ? ratio(authMe.requestsPerSecond, publicInfo.requestsPerSecond) : null
  const cpuVsFloor = hasAuthMe ? ratio(authMe.serverCpuPerRequestMs, floor.serverCpuPerRequestMs) : null
  const publicVsFloor = ratio(publicInfo.requestsPerSecond, floor.requestsPerSecond)
  const burstP99 = burst.isAvailable ? burst.probeP99Ms : null
  // Each round's ratio compares targets measured seconds apart, so its spread shows how much
  // the machine's noise moved the overall ratio.
  const roundSpread = (a: TargetSummary, b: TargetSummary) => {
    const ratios = a.roundRequestsPerSecond.map((value, index) => value / (b.roundRequestsPerSecond[index] ?? Number.NaN)).filter(Number.isFinite)
    return ratios.length ? `rounds ${round(Math.min(...ratios), 2)}–${round(Math.max(...ratios), 2)}` : ''
  }
  const notAvailable = 'auth.me not available'
  return [
    { name: 'throughput (a)/(c) auth.me vs floor', measured: throughputVsFloor, target: '>= 0.50', isMet: throughputVsFloor === null ? null : throughputVsFloor >= 0.5, detail: hasAuthMe ? roundSpread(authMe, floor) : notAvailable },
    { name: 'throughput (a)/(b) auth.me vs public', measured: throughputVsPublic, target: '>= 0.80', isMet: throughputVsPublic === null ? null : throughputVsPublic >= 0.8, detail: hasAuthMe ? roundSpread(authMe, publicInfo) : notAvailable },
    { name: 'server CPU/request (a)/(c)', measured: cpuVsFloor, target: '<= 2.00', isMet: cpuVsFloor === null ? null : cpuVsFloor <= 2, detail: hasAuthMe ? '' : notAvailable },
    { name: 'throughput (b)/(c) public vs floor', measured: publicVsFloor, target: '(info)', isMet: null, detail: `framework overhead without a session; ${roundSpread(publicInfo, floor)}` },
    {
      name: `p99 ${burst.probeLabel} in sign-in burst (ms)`,
      measured: burstP99,
      target: '< 25',
      isMet: burstP99 === null ? null : burstP99 < 25,
      detail: burst.isAvailable ? `baseline p99 ${burst.baselineProbeP99Ms} ms without sign-ins` : (burst.note ?? 'not available'),
    },
    {
      name: 'session-row writes during (a)',
      measured: hasAuthMe ? authMe.sessionWrites : null,
      target: '~0',
      isMet: hasAuthMe ? authMe.sessionWrites <= 1 : null,
      detail: hasAuthMe ? `over ${authMe.requests} requests (renewal at most once per interval)` : notAvailable,
    },
  ]
}

/**
 * The SSO section's checks: every login must end in the 303 to the page asked for; discovery and
 * JWKS once per instance (one instance here), never per login. The callback's time is reported.
 */
export function checkSso(sso: SsoSummary): TargetCheck[] {
  const succeeded = sso.callbackStatuses['303 /app'] ?? 0
  return [
    { name: 'OIDC callback p50 (ms)', measured: sso.callbackP50Ms, target: '(info)', isMet: null, detail: `p99 ${sso.callbackP99Ms} ms, first (cold) ${sso.firstCallbackMs} ms, returning users p50/p99 ${sso.returningCallbackP50Ms}/${sso.returningCallbackP99Ms} ms; ${succeeded}/${sso.logins} → 303 /app` },
    { name: 'IdP discovery fetches per instance', measured: sso.discoveryPerInstance, target: '1', isMet: sso.discoveryPerInstance === 1, detail: `over ${sso.logins} logins` },
    { name: 'IdP JWKS fetches per instance', measured: sso.jwksPerInstance, target: '1', isMet: sso.jwksPerInstance === 1, detail: `over ${sso.logins} logins` },
  ]
}

function pad(value: string, width: number, alignRight = false): string {
  return alignRight ? value.padStart(width) : value.padEnd(width)
}

function formatNumber(value: number | null, digits = 2): string {
  if (value === null || Number.isNaN(value)) return '–'
  return value.toFixed(digits)
}

/** The human-readable report. */
export function formatReport(targets: Record<TargetKey, TargetSummary>, checks: TargetCheck[], burst: BurstSummary, sso?: SsoSummary): string {
  const lines: string[] = []
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'cpu/req ms', 'db cpu/req', 'bytes', 'errors']
  const widths = [34, 8, 8, 8, 11, 11, 6, 7]
  lines.push(header.map((cell, index) => pad(cell, widths[index]!, index > 0)).join(' '))
  lines.push(widths.map((width) => '-'.repeat(width)).join(' '))
  for (const summary of Object.values(targets)) {
    if (!summary.isAvailable) {
      lines.push(`${pad(summary.label, widths[0]!)} ${summary.note ?? 'not available'}`)
      continue
    }
    const cells = [
      summary.label,
      String(summary.requestsPerSecond),
      formatNumber(summary.p50Ms),
      formatNumber(summary.p99Ms),
      formatNumber(summary.serverCpuPerRequestMs, 3),
      formatNumber(summary.databaseCpuPerRequestMs, 3),
      String(summary.bytesPerResponse),
      String(summary.errors),
    ]
    lines.push(cells.map((cell, index) => pad(cell, widths[index]!, index > 0)).join(' '))
  }
  lines.push('')
  lines.push(`${pad('SPEC target', 44)} ${pad('measured', 9, true)} ${pad('target', 8, true)}  result`)
  lines.push(`${'-'.repeat(44)} ${'-'.repeat(9)} ${'-'.repeat(8)}  ------`)
  for (const check of checks) {
    const verdict = check.isMet === null ? (check.measured === null ? 'n/a' : 'info') : check.isMet ? 'met' : 'MISSED'
    const measured = check.measured === null ? '–' : String(check.measured)
    lines.push(`${pad(check.name, 44)} ${pad(measured, 9, true)} ${pad(check.target, 8, true)}  ${verdict}${check.detail ? `  (${check.detail})` : ''}`)
  }
  if (burst.isAvailable) {
    const statuses = Object.entries(burst.signInStatuses).map(([status, count]) => `${status}×${count}`).join(', ')
    lines.push('')
    lines.push(
      `sign-in burst: ${burst.bursts} × ${burst.signInsPerBurst} concurrent auth.signIn (${statuses}); ` +
        `sign-in p50 ${formatNumber(burst.signInP50Ms)} ms, burst p50 ${formatNumber(burst.burstDurationP50Ms)} ms; ` +
        `${burst.probeRequests} probe calls, p50 ${formatNumber(burst.probeP50Ms)} ms`,
    )
  }
  if (sso) {
    const statuses = Object.entries(sso.callbackStatuses).map(([status, count]) => `${status}×${count}`).join(', ')
    const { token, userinfo, authorization } = sso.idpRequests
    lines.push(
      `SSO: ${sso.logins} OIDC logins in ${sso.durationSeconds} s (callbacks ${statuses}); callback p50 ${formatNumber(sso.callbackP50Ms)} ms, ` +
        `p99 ${formatNumber(sso.callbackP99Ms)} ms; the IdP saw ${sso.discoveryPerInstance} discovery, ${sso.jwksPerInstance} JWKS, ` +
        `${authorization} authorization, ${token} token, ${userinfo} userinfo requests`,
    )
  }
  return lines.join('\n')
}
