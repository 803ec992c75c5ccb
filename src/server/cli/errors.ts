/** Bad input to a CLI command: printed as one line, exit code 2, nothing written. */
export class CliUsageError extends Error {
  override name = 'CliUsageError'
}
