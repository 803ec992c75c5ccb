/**
 * Server-only: a strength estimate on top of the blocklist (NIST SP 800-63B §3.1.1.2 asks for
 * "dictionary words, repetitive or sequential characters, context-specific words"; OWASP ASVS
 * 6.2.x). The blocklist knows the 49k most common passwords; zxcvbn-ts also knows how they are
 * built — keyboard walks (`qwertyuiopasdfgh`), repeats (`abcabcabc…`), dates, l33t spellings of
 * dictionary words — and scores the guesses an attacker needs (0 … 4). ADR 010.
 *
 * Cost: the policy runs before hashing, on unauthenticated input (sign-up), so the estimate is
 * bounded: only the first `SCORED_PREFIX_CHARACTERS` characters are scored and l33t substitutions
 * are capped. Measured here: ~1 ms for a typical 20-character passphrase, ~4 ms on average and
 * ~15 ms at worst for adversarial 256-character inputs (`npx tsx bench/password-policy.ts`).
 */
import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core'
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common'

/**
 * Characters scored. A password whose first 64 characters are already hard to guess is hard to
 * guess; one whose first 64 are a pattern is refused even if something follows (conservative).
 * Past 64, zxcvbn's matching grows super-linearly (~80 ms for 256 random symbols).
 */
export const SCORED_PREFIX_CHARACTERS = 64

/** zxcvbn-ts's default (100) lets a string of symbols explode into l33t variants: 85 ms worst case. */
const L33T_MAX_SUBSTITUTIONS = 10

let estimator: ZxcvbnFactory | undefined

function getEstimator(): ZxcvbnFactory {
  // The dictionaries are the same package the blocklist reads (already in memory); Levenshtein
  // matching is off: it is the slowest matcher and the blocklist catches near-copies of the top entries.
  estimator ??= new ZxcvbnFactory({
    dictionary,
    graphs: adjacencyGraphs,
    useLevenshteinDistance: false,
    maxLength: SCORED_PREFIX_CHARACTERS,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
  })
  return estimator
}

export type PasswordStrength = {
  /** zxcvbn's 0 … 4: < 10^3, < 10^6, < 10^8, < 10^10, ≥ 10^10 estimated guesses. */
  score: 0 | 1 | 2 | 3 | 4
  /** What makes it guessable, in the user's words; null when nothing stands out. */
  weakness: string | null
}

/** Estimates how guessable a password is; `userInputs` (email, app name) count as known words. */
export function estimatePasswordStrength(password: string, userInputs: string[] = []): PasswordStrength {
  const result = getEstimator().check(password, userInputs)
  return { score: result.score, weakness: describeWeakness(result) }
}

/**
 * The message names the pattern that covers most of the password, so the user learns what to
 * avoid (a keyboard walk, a repeat, a date) rather than "too weak".
 */
function describeWeakness(result: ZxcvbnResult): string | null {
  let widest: ZxcvbnResult['sequence'][number] | undefined
  for (const match of result.sequence) {
    if (match.pattern === 'bruteforce' || match.pattern === 'separator') continue
    if (!widest || match.token.length > widest.token.length) widest = match
  }
  switch (widest?.pattern) {
    case 'spatial':
      return 'Avoid keyboard patterns like qwerty or 1qaz2wsx.'
    case 'repeat':
      return 'Avoid repeated words and patterns like abcabc.'
    case 'sequence':
      return 'Avoid sequences like 12345 or abcde.'
    case 'date':
    case 'regex':
      return 'Avoid dates and years.'
    case 'dictionary':
      // zxcvbn's dictionaries hold keyboard walks too (`qwertyuiop`, `asdfgh`).
      return widest.dictionaryName === 'userInputs'
        ? 'Do not build the password from your email address or the service name.'
        : 'This password is built from common words or keyboard patterns; add a few unrelated words.'
    default:
      return null
  }
}
