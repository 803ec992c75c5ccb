/**
 * `/admin/domains`: the email domains the organization claims. A claim is proven with a DNS TXT
 * record, then routed to a single sign-on connection (SPEC §6).
 */
import { createFileRoute } from '@tanstack/react-router'
import { useState, type FormEvent } from 'react'
import { toast } from 'sonner'
import { DomainRow } from '../../components/admin/sso/domain-row'
import { PageHeader } from '../../components/page-header'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { Spinner } from '../../components/ui/spinner'
import { TextField } from '../../components/ui/text-field'
import { describeFormError, NO_FORM_ERROR } from '../../lib/form-errors'
import { trpc } from '../../lib/trpc'

export const Route = createFileRoute('/_authed/admin/domains')({
  loader: ({ context }) => Promise.all([context.trpcUtils.organization.domains.list.ensureData(), context.trpcUtils.organization.sso.list.ensureData()]),
  head: () => ({ meta: [{ title: 'Domains · Admin · Gatehouse' }] }),
  component: DomainsPage,
})

function DomainsPage() {
  const domains = trpc.organization.domains.list.useQuery()
  const connections = trpc.organization.sso.list.useQuery()
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Domains" description="Claim your organization’s email domains, prove them with a DNS record, and send their sign-ins to single sign-on." />
      <Card title="Add a domain" description="For example example.com. Each domain is verified on its own: example.com does not cover eu.example.com.">
        <AddDomainForm />
      </Card>
      <Card title="Your domains">
        {domains.data ? (
          domains.data.length === 0 ? (
            <p className="text-sm text-slate-600">No domains yet. Add one above.</p>
          ) : (
            <ul className="-my-4 flex flex-col divide-y divide-slate-100" aria-label="Domains">
              {domains.data.map((domain) => (
                <DomainRow key={domain.domain} domain={domain} connections={connections.data ?? []} />
              ))}
            </ul>
          )
        ) : domains.isError ? (
          <Alert>{describeFormError(domains.error).message}</Alert>
        ) : (
          <p className="flex items-center gap-2 text-sm text-slate-600" role="status">
            <Spinner /> Loading domains…
          </p>
        )}
      </Card>
    </div>
  )
}

function AddDomainForm() {
  const utils = trpc.useUtils()
  const add = trpc.organization.domains.add.useMutation()
  const [domain, setDomain] = useState('')
  const [formError, setFormError] = useState(NO_FORM_ERROR)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setFormError(NO_FORM_ERROR)
    try {
      const added = await add.mutateAsync({ domain })
      toast.success(`${added.domain} added. Publish its TXT record, then verify it.`)
      setDomain('')
      void utils.organization.domains.list.invalidate()
      void utils.admin.audit.list.invalidate()
    } catch (error) {
      setFormError(describeFormError(error))
    }
  }

  return (
    <form className="flex flex-wrap items-end gap-3" onSubmit={submit} noValidate>
      <TextField
        className="min-w-0 flex-1 basis-64"
        label="Domain"
        name="domain"
        autoComplete="off"
        spellCheck={false}
        placeholder="example.com"
        value={domain}
        onChange={(event) => setDomain(event.target.value)}
        error={formError.fields.domain ?? formError.message}
      />
      <Button type="submit" isLoading={add.isPending} disabled={domain.trim().length === 0}>
        Add domain
      </Button>
    </form>
  )
}
