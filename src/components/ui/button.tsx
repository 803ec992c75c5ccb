/** Buttons (and links that look like buttons) in the app's few variants. */
import type { ComponentProps } from 'react'
import { Spinner } from './spinner'

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost'

const BASE =
  'inline-flex min-h-10 items-center justify-center gap-2 rounded-md px-4 py-2 text-sm font-medium transition-colors ' +
  'focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 ' +
  'disabled:cursor-not-allowed disabled:opacity-60'

const VARIANTS: Record<ButtonVariant, string> = {
  primary: 'bg-indigo-600 text-white shadow-sm hover:bg-indigo-500',
  secondary: 'border border-slate-300 bg-white text-slate-800 shadow-sm hover:bg-slate-50',
  danger: 'border border-red-200 bg-white text-red-700 shadow-sm hover:bg-red-50',
  ghost: 'text-slate-700 hover:bg-slate-100',
}

/** Class names for a button-looking element (also used on router `<Link>`s). */
export function buttonClassName(variant: ButtonVariant = 'primary', extra = ''): string {
  return `${BASE} ${VARIANTS[variant]} ${extra}`.trim()
}

export type ButtonProps = ComponentProps<'button'> & {
  variant?: ButtonVariant
  /** Shows a spinner, disables the button and tells assistive tech it is busy. */
  isLoading?: boolean
}

/** A button; `type` defaults to "button" so nothing submits a form by accident. */
export function Button({ variant = 'primary', isLoading = false, className = '', disabled, children, type = 'button', ...props }: ButtonProps) {
  return (
    <button type={type} className={buttonClassName(variant, className)} disabled={disabled || isLoading} aria-busy={isLoading || undefined} {...props}>
      {isLoading && <Spinner />}
      {children}
    </button>
  )
}
