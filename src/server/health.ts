/** Server-only: the health report; says whether the database answers, never why it does not. */
import { getDatabase } from './db/client'

const DATABASE_PROBE_TIMEOUT_MS = 2000

export type HealthReport = {
  status: 'ok' | 'degraded'
  app: { status: 'ok'; uptimeSeconds: number }
  database: { status: 'ok' | 'unreachable'; latencyMs: number | null }
}

/** Probes the pool with `SELECT 1`; a dead database degrades the report instead of crashing. */
export async function checkHealth(): Promise<HealthReport> {
  const started = performance.now()
  let isDatabaseUp = false
  try {
    const { pool } = getDatabase()
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), DATABASE_PROBE_TIMEOUT_MS).unref()),
    ])
    isDatabaseUp = true
  } catch (error) {
    console.error('[health] database probe failed:', error instanceof Error ? error.message : error)
  }
  return {
    status: isDatabaseUp ? 'ok' : 'degraded',
    app: { status: 'ok', uptimeSeconds: Math.round(process.uptime()) },
    database: {
      status: isDatabaseUp ? 'ok' : 'unreachable',
      latencyMs: isDatabaseUp ? Math.round(performance.now() - started) : null,
    },
  }
}
