/** Inline messages: errors are announced (`role="alert"`), notices politely (`role="status"`). */
import type { ReactNode } from 'react'

const TONES = {
  error: 'border-red-200 bg-red-50 text-red-800',
  success: 'border-emerald-200 bg-emerald-50 text-emerald-900',
  info: 'border-sky-200 bg-sky-50 text-sky-900',
  warning: 'border-amber-200 bg-amber-50 text-amber-900',
} as const

/** A bordered message box; renders nothing without children. */
export function Alert({ tone = 'error', children, className = '' }: { tone?: keyof typeof TONES; children?: ReactNode; className?: string }) {
  if (!children) return null
  return (
    <div role={tone === 'error' ? 'alert' : 'status'} className={`rounded-md border px-3 py-2 text-sm ${TONES[tone]} ${className}`}>
      {children}
    </div>
  )
}
