/**
 * `npx tsx bench/password-policy.ts`: milliseconds per `checkPasswordPolicy` call (blocklist +
 * strength estimate), typical passphrases and adversarial input. The policy runs before hashing on
 * unauthenticated sign-up input, so its worst case matters as much as its average (ADR 010).
 */
import { performance } from 'node:perf_hooks'
import { checkPasswordPolicy } from '../src/server/auth/password-policy'

function measure(label: string, make: (index: number) => string, runs: number): void {
  const durations: number[] = []
  for (let index = 0; index < runs; index++) {
    const password = make(index)
    const started = performance.now()
    checkPasswordPolicy(password, { hasMfa: false, email: 'someone@example.com' })
    durations.push(performance.now() - started)
  }
  durations.sort((a, b) => a - b)
  const mean = durations.reduce((sum, value) => sum + value, 0) / runs
  const p99 = durations[Math.floor(runs * 0.99)]!
  console.log(`${label.padEnd(42)} mean ${mean.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${durations.at(-1)!.toFixed(2)} ms`)
}

const randomSymbols = (length: number) => Array.from({ length }, () => String.fromCharCode(33 + Math.floor(Math.random() * 90))).join('')
const words = ['amber', 'lantern', 'harbour', 'quiet', 'meadow', 'copper', 'violin', 'thistle', 'orbit', 'saddle']

const firstStarted = performance.now()
checkPasswordPolicy('first call loads the dictionaries', { hasMfa: false })
console.log(`first call (loads blocklist + estimator)        ${(performance.now() - firstStarted).toFixed(1)} ms`)
measure('4-word passphrase (~28 chars)', (i) => `${words[i % 10]} ${words[(i * 3) % 10]} ${words[(i * 7) % 10]} ${i}`, 2000)
measure('random 20 symbols', () => randomSymbols(20), 1000)
measure('keyboard walk (refused)', (i) => `qwertyuiopasdfgh${i}`, 1000)
measure('random 256 symbols (adversarial)', () => randomSymbols(256), 200)
measure('256 l33t symbols (adversarial)', (i) => Array.from({ length: 256 }, (_, j) => '4@3!1|0$5+7('[(i + j) % 12]).join(''), 200)
