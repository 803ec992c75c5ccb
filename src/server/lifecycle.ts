/**
 * Server-only: shutdown hooks. The production entry (`scripts/start.mjs`) and the server bundle are
 * separate module graphs, so the registry lives on a process-wide symbol both can reach.
 */
type ShutdownHook = () => Promise<void> | void

const REGISTRY_KEY = Symbol.for('gatehouse.shutdownHooks')

function registry(): Set<ShutdownHook> {
  const holder = globalThis as { [REGISTRY_KEY]?: Set<ShutdownHook> }
  holder[REGISTRY_KEY] ??= new Set()
  return holder[REGISTRY_KEY]
}

/** Registers work to run after the HTTP server has drained (closing the pool, stopping timers). */
export function onShutdown(hook: ShutdownHook): () => void {
  registry().add(hook)
  return () => registry().delete(hook)
}

/** Runs every hook once; errors are reported but never stop the remaining hooks. */
export async function runShutdownHooks(): Promise<void> {
  const hooks = [...registry()]
  registry().clear()
  for (const hook of hooks) {
    try {
      await hook()
    } catch (error) {
      console.error('[gatehouse] shutdown hook failed:', error instanceof Error ? error.message : error)
    }
  }
}
