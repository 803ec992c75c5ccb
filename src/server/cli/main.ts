/**
 * The `gatehouse` operator CLI: `npm run gatehouse -- <command> [--flags]`.
 * Every command validates its input with zod and exits non-zero with a one-line reason on bad
 * input (exit 2) or failure (exit 1); nothing is written when validation fails.
 */
import { parseArgs } from 'node:util'
import { COMMANDS, type CliContext } from './commands'
import { CliUsageError } from './errors'

function printHelp(): void {
  console.log('Usage: npm run gatehouse -- <command> [--flag value ...]\n\nCommands:')
  for (const [name, command] of Object.entries(COMMANDS)) {
    console.log(`  ${name.padEnd(18)} ${command.summary}`)
  }
}

async function main(argv: string[]): Promise<number> {
  const [commandName, ...rest] = argv
  if (!commandName || commandName === 'help' || commandName === '--help') {
    printHelp()
    return commandName ? 0 : 2
  }
  const command = COMMANDS[commandName as keyof typeof COMMANDS]
  if (!command) {
    console.error(`gatehouse: unknown command "${commandName}" (run \`npm run gatehouse -- help\`)`)
    return 2
  }
  let flags: Record<string, string | boolean | undefined>
  try {
    flags = parseArgs({ args: rest, options: command.flags, strict: true, allowPositionals: false }).values as typeof flags
  } catch (error) {
    console.error(`gatehouse ${commandName}: ${error instanceof Error ? error.message : error}`)
    return 2
  }
  const context: CliContext = { out: (line) => console.log(line) }
  try {
    await command.run(flags, context)
    return 0
  } catch (error) {
    if (error instanceof CliUsageError) {
      console.error(`gatehouse ${commandName}: ${error.message}`)
      return 2
    }
    console.error(`gatehouse ${commandName}: failed: ${error instanceof Error ? error.message : error}`)
    return 1
  }
}

main(process.argv.slice(2)).then(
  async (code) => {
    const { runShutdownHooks } = await import('../lifecycle')
    await runShutdownHooks()
    process.exit(code)
  },
  (error) => {
    console.error('gatehouse: unexpected failure:', error instanceof Error ? error.message : error)
    process.exit(1)
  },
)
