// Who is signed in (GET /me): roles, data scope, and the endpoints of the access table they may use, which the
// menu and every button are built from.

import { reactive } from 'vue'
import { api, ApiError, useCsrf } from './api'

export interface Me {
  username: string
  display_name: string | null
  roles: string[]
  org_unit: string | null
  division: string | null
  pii: boolean
  operations: string[]
  password_change_required: boolean
  second_factor_required: boolean
  csrf_token: string | null
  idle_seconds: number
  /** The platform's time when /me answered. */
  now: string
}

export const session = reactive<{ me: Me | null; loaded: boolean }>({ me: null, loaded: false })

// The platform's clock less the browser's, taken when /me answers: "today" is the platform's (the suite runs on a
// fixed date), while the browser's clock only counts the time gone by since.
let offsetMs = 0

export function platformNow(): Date {
  return new Date(Date.now() + offsetMs)
}

/** The fiscal year of the platform's today (the calendar year in Beijing). */
export function platformYear(): number {
  return Number(new Date(platformNow().getTime() + 8 * 3600_000).toISOString().slice(0, 4))
}

export function can(operation: string): boolean {
  return session.me?.operations.includes(operation) ?? false
}

export async function loadMe(): Promise<Me | null> {
  try {
    const me = await api.get<Me>('/me')
    session.me = me
    offsetMs = new Date(me.now).getTime() - Date.now()
    useCsrf(me.csrf_token)
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error
    session.me = null
  }
  session.loaded = true
  return session.me
}

export interface BrowserSession {
  csrf_token: string
  password_change_required: boolean
  second_factor_required: boolean
}

export async function signIn(username: string, password: string, code?: string): Promise<BrowserSession> {
  const signed = await api.post<BrowserSession>('/auth/session', { username, password, code: code || undefined })
  useCsrf(signed.csrf_token)
  return signed
}

export async function signOut(): Promise<void> {
  try {
    await api.post('/auth/logout')
  } finally {
    session.me = null
    useCsrf(null)
  }
}
