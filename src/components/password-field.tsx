/** A new-password input with a show/hide toggle (NIST 800-63B §5.1.1.2 suggests offering one). */
import { useState } from 'react'
import { TextField, type TextFieldProps } from './ui/text-field'

/** A password field for choosing a new password (autocomplete new-password, show toggle). */
export function NewPasswordField(props: Omit<TextFieldProps, 'type'>) {
  const [isVisible, setIsVisible] = useState(false)
  return (
    <div className="flex flex-col gap-1.5">
      <TextField {...props} type={isVisible ? 'text' : 'password'} autoComplete="new-password" spellCheck={false} />
      <label className="inline-flex w-fit items-center gap-2 text-sm text-slate-600">
        <input type="checkbox" className="size-4 rounded border-slate-300 accent-indigo-600" checked={isVisible} onChange={(event) => setIsVisible(event.target.checked)} />
        Show password
      </label>
    </div>
  )
}
