/**
 * Tests that change the source: copy the project to a temporary folder, apply the change there
 * (never in the checkout), build the copy with Vite and start it like `npm start` on a fresh
 * database. One build per call: on two cores it is the slow part, so call it once per test file.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { startAppServer, type RunningAppServer } from './app-server'

const PROJECT_ROOT = resolve(import.meta.dirname, '../..')

/**
 * What a build and `npm start` need; `include` adds more (e.g. `docs/examples`). `.gitignore` too:
 * Tailwind's source scan honours it, and without it the server build (which runs after the client
 * build) also scans `dist/client`, so its stylesheet hash differs and every page links a CSS file
 * that does not exist.
 */
const ENTRIES_TO_COPY = ['src', 'db', 'scripts', '.gitignore', 'app.config.ts', 'vite.config.ts', 'tsconfig.json', 'package.json']

/** Edits applied to the copy, by paths relative to its root. */
export type ProjectCopyEditor = {
  /** Creates (or overwrites) a file, with its folders. */
  writeFile: (path: string, content: string) => void
  /**
   * Replaces `anchor` with `replacement` in an existing file. Throws unless the anchor occurs exactly
   * once, so a change to the file the test relies on fails loudly instead of testing something else.
   */
  replaceOnce: (path: string, anchor: string, replacement: string) => void
}

export type RunningProjectCopy = RunningAppServer & {
  /** The copy's root folder. */
  projectRoot: string
  /** How long `vite build` of the copy took. */
  buildSeconds: number
  /** Stops the server and deletes the copy. */
  stopAndRemove: () => Promise<void>
}

/** Copies the project, applies `change`, builds the copy and starts it on a fresh database named by `name`. */
export async function startChangedProjectCopy(options: {
  runId: string
  name: string
  include?: string[]
  change: (editor: ProjectCopyEditor) => void
}): Promise<RunningProjectCopy> {
  const projectRoot = mkdtempSync(join(tmpdir(), `gatehouse-${options.name}-`))
  try {
    for (const entry of [...ENTRIES_TO_COPY, ...(options.include ?? [])]) {
      cpSync(join(PROJECT_ROOT, entry), join(projectRoot, entry), { recursive: true })
    }
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(projectRoot, 'node_modules'))
    options.change(createEditor(projectRoot))

    const buildStarted = Date.now()
    // Vitest sets NODE_ENV=test; a build that inherits it compiles JSX for React's development
    // runtime, and the production server then fails every page render ("jsxDEV is not a function").
    // `npm test` builds the checkout without NODE_ENV (scripts/test.ts); so does this.
    const buildEnv = { ...process.env }
    delete buildEnv.NODE_ENV
    const build = spawnSync(join(PROJECT_ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'error'], { cwd: projectRoot, encoding: 'utf8', env: buildEnv })
    if (build.status !== 0) throw new Error(`build of the copy failed:\n${build.stdout}${build.stderr}`)
    const buildSeconds = (Date.now() - buildStarted) / 1000

    const server = await startAppServer({ runId: options.runId, name: options.name, projectRoot })
    return {
      ...server,
      projectRoot,
      buildSeconds,
      stopAndRemove: async () => {
        await server.stop()
        rmSync(projectRoot, { recursive: true, force: true })
      },
    }
  } catch (error) {
    rmSync(projectRoot, { recursive: true, force: true })
    throw error
  }
}

function createEditor(projectRoot: string): ProjectCopyEditor {
  return {
    writeFile: (path, content) => {
      const target = join(projectRoot, path)
      mkdirSync(dirname(target), { recursive: true })
      writeFileSync(target, content)
    },
    replaceOnce: (path, anchor, replacement) => {
      const target = join(projectRoot, path)
      const source = readFileSync(target, 'utf8')
      const occurrences = source.split(anchor).length - 1
      if (occurrences !== 1) {
        throw new Error(`${path}: expected the anchor exactly once, found it ${occurrences} times (has the file changed?):\n${anchor}`)
      }
      writeFileSync(target, source.replace(anchor, () => replacement))
    },
  }
}
