/** Client-safe: the outcome of a domain's DNS check, in words an admin can act on. */

/** One sentence per outcome; `name` is the record's host name. */
export function describeDomainCheck(outcome: string, domain: string, recordName: string): string {
  switch (outcome) {
    case 'verified':
      return `${domain} is verified. You can now route its sign-ins to a connection.`
    case 'already_verified':
      return `${domain} was already verified.`
    case 'no_record':
      return `No TXT record was found at ${recordName} yet. DNS changes can take a while to appear; try again in a few minutes.`
    case 'wrong_value':
      return `A TXT record exists at ${recordName}, but none has the value shown here. Check it was copied exactly.`
    case 'dns_error':
      return `The DNS lookup for ${recordName} failed. Try again in a few minutes.`
    case 'claimed_elsewhere':
      return `Another organization has already verified ${domain}.`
    default:
      return `The last check of ${domain} did not verify it.`
  }
}
