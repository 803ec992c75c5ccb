/**
 * Client-safe: turns a tRPC error into what a form shows — one message for the form and, for
 * validation failures, one message per field. Server messages for application errors are written
 * to be shown to users (src/server/errors.ts); anything unexpected gets a generic sentence.
 */
import { getAppErrorCode, type AppErrorCode } from './app-errors'

export type FormError = {
  /** For the form's alert; null when there is nothing to show. */
  message: string | null
  /** Field name → message, from the server's validation issues. */
  fields: Record<string, string>
  appCode: AppErrorCode | null
}

type ErrorData = { code?: string; zodIssues?: Array<{ path: string[]; message: string }> | null }

export const NO_FORM_ERROR: FormError = { message: null, fields: {}, appCode: null }

/** Describes `error` (a tRPC client error, or anything thrown) for a form. */
export function describeFormError(error: unknown): FormError {
  if (!error) return NO_FORM_ERROR
  const appCode = getAppErrorCode(error)
  const data = (error as { data?: ErrorData | null }).data ?? null
  if (appCode) return { message: (error as Error).message, fields: {}, appCode }
  if (data?.zodIssues?.length) {
    const fields: Record<string, string> = {}
    for (const issue of data.zodIssues) {
      const field = issue.path[0] ?? ''
      fields[field] ??= issue.message
    }
    return { message: 'Please check the highlighted fields.', fields, appCode: null }
  }
  if (data?.code === 'TOO_MANY_REQUESTS') return { message: 'Too many attempts. Try again later.', fields: {}, appCode: null }
  if (!data) return { message: 'Could not reach the server. Check your connection and try again.', fields: {}, appCode: null }
  return { message: 'Something went wrong. Please try again.', fields: {}, appCode: null }
}
