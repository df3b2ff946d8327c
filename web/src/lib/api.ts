// Every call of the console to the API: same origin, the session cookie, the CSRF token on writes; problems are
// thrown as ApiError with their Chinese text. A 401 sends the page back to sign-in with the reason.

import { describe, type Problem } from './errors'

let csrf: string | null = null
let onSignedOut: ((message: string) => void) | null = null

export function useCsrf(token: string | null): void {
  csrf = token
}

export function whenSignedOut(handler: (message: string) => void): void {
  onSignedOut = handler
}

export class ApiError extends Error {
  constructor(public problem: Problem) {
    super(describe(problem))
  }

  get status(): number {
    return this.problem.status
  }
}

type Query = Record<string, string | number | boolean | null | undefined>

function url(path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value))
  }
  const qs = params.toString()
  return `/api/v1${path}${qs ? `?${qs}` : ''}`
}

async function call<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf
  let response: Response
  try {
    response = await fetch(url(path, options.query), {
      method, headers, credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    })
  } catch {
    throw new ApiError({ type: 'network-error', status: 0 })
  }
  if (response.status === 204) return undefined as T
  const text = await response.text()
  const data = text ? JSON.parse(text) : undefined
  if (!response.ok) {
    const problem: Problem = data ?? { type: 'internal-error', status: response.status }
    // The server's own words stay in the log for whoever has to look into it.
    console.info('FundWatch API', method, path, response.status, problem.detail)
    // A session that ended (idle, signed out elsewhere, expired) says why; the page goes to sign-in and tells it.
    if (response.status === 401 && problem.reason && !path.startsWith('/auth/') && onSignedOut) {
      onSignedOut(describe(problem))
    }
    throw new ApiError(problem)
  }
  return data as T
}

// A file sent as multipart form data. XMLHttpRequest rather than fetch: only it reports the upload's progress.
function upload<T>(path: string, file: File, onProgress: (percent: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const request = new XMLHttpRequest()
    request.open('POST', url(path))
    request.setRequestHeader('Accept', 'application/json')
    if (csrf) request.setRequestHeader('X-CSRF-Token', csrf)
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100))
    }
    request.onerror = () => reject(new ApiError({ type: 'network-error', status: 0 }))
    request.onload = () => {
      let data: unknown
      try {
        data = request.responseText ? JSON.parse(request.responseText) : undefined
      } catch {
        data = undefined
      }
      if (request.status >= 200 && request.status < 300) {
        onProgress(100)
        resolve(data as T)
        return
      }
      const problem = (data as Problem | undefined) ?? { type: 'internal-error', status: request.status }
      console.info('FundWatch API', 'POST', path, request.status, problem.detail)
      if (request.status === 401 && problem.reason && onSignedOut) onSignedOut(describe(problem))
      reject(new ApiError(problem))
    }
    const form = new FormData()
    form.append('file', file)
    request.send(form)
  })
}

export const api = {
  get: <T>(path: string, query?: Query) => call<T>('GET', path, { query }),
  post: <T>(path: string, body?: unknown) => call<T>('POST', path, { body }),
  upload,
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

// Every page of a list, up to `max` rows (the dashboard's figures over the whole scope).
export async function everything<T>(path: string, query: Query = {}, max = 5000): Promise<T[]> {
  const rows: T[] = []
  let cursor: string | null = null
  do {
    const page: Page<T> = await api.get<Page<T>>(path, { ...query, limit: 1000, cursor })
    rows.push(...page.items)
    cursor = page.next_cursor
  } while (cursor && rows.length < max)
  return rows
}
