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
}

export const session = reactive<{ me: Me | null; loaded: boolean }>({ me: null, loaded: false })

export function can(operation: string): boolean {
  return session.me?.operations.includes(operation) ?? false
}

export async function loadMe(): Promise<Me | null> {
  try {
    const me = await api.get<Me>('/me')
    session.me = me
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
