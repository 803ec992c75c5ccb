/** Development only: the seeded accounts, one click to sign in as one of them (SPEC §8). */
import { Button } from '../ui/button'
import type { DemoAccountSummary } from '../../functions/demo-accounts'

const SIGN_IN_METHOD_LABELS: Record<DemoAccountSummary['signInMethod'], string> = {
  password: 'email and password',
  oidc: 'OIDC single sign-on',
  saml: 'SAML single sign-on',
}

/** The password shown is the one to type at the app, or at the local IdP for SSO accounts. */
export function DemoAccounts({ accounts, onUse }: { accounts: DemoAccountSummary[]; onUse: (account: DemoAccountSummary) => void }) {
  return (
    <section aria-labelledby="demo-accounts-heading" className="mx-auto w-full max-w-2xl rounded-xl border border-dashed border-amber-300 bg-amber-50/60 p-5">
      <h2 id="demo-accounts-heading" className="text-sm font-semibold text-amber-900">
        Demo accounts <span className="font-normal">(development only)</span>
      </h2>
      <ul className="mt-3 divide-y divide-amber-200">
        {accounts.map((account) => (
          <li key={account.email} className="flex flex-wrap items-center justify-between gap-3 py-2.5 text-sm">
            <div className="min-w-0">
              <p className="font-medium text-slate-900">
                {account.email} <span className="font-normal text-slate-600">· {account.role} at {account.organizationName}</span>
              </p>
              <p className="text-slate-600">
                {account.signInMethod === 'password' ? 'Password' : 'Password at the identity provider'}{' '}
                <code className="rounded bg-white px-1 py-0.5 text-xs">{account.password}</code> · {SIGN_IN_METHOD_LABELS[account.signInMethod]}
              </p>
            </div>
            <Button variant="secondary" onClick={() => onUse(account)} aria-label={`Use ${account.email}`}>
              Use
            </Button>
          </li>
        ))}
      </ul>
    </section>
  )
}
