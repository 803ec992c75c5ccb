/**
 * The slice of `oidc-provider` 9 (which ships no types) that the local IdP uses. Loose on
 * purpose: this is development and test tooling, never part of the app.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export type KoaContext = {
    path: string
    method: string
    status: number
    body: unknown
    oidc: any
    response: { get(name: string): string; set(name: string, value: string): void }
    set(name: string, value: string): void
    get(name: string): string
  }

  export type InteractionDetails = {
    uid: string
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> }
    params: Record<string, unknown>
    session?: { accountId: string }
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    readonly issuer: string
    readonly Grant: any
    callback(): (request: IncomingMessage, response: ServerResponse) => void
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): this
    interactionDetails(request: IncomingMessage, response: ServerResponse): Promise<InteractionDetails>
    interactionFinished(request: IncomingMessage, response: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>
    on(event: string, listener: (...args: any[]) => void): this
  }
}
