// The alert stream (SSE) with the session cookie: EventSource sends it on the same origin, so no token ever
// goes into a URL. EventSource reconnects by itself and resumes with Last-Event-ID.

export interface AlertEvent {
  alert_id: string
  level?: string
  status?: string
  org_unit?: string | null
  owner_division?: string | null
  [more: string]: unknown
}

const EVENTS = ['AlertRaised', 'AlertTransitioned', 'AlertBreachRepeated']

// `onDrop` runs when the stream breaks: the page asks whether the session still holds (a stream ends with its
// session, and EventSource cannot tell a 401 from a network fault).
export function watchAlerts(onEvent: (kind: string, event: AlertEvent) => void, onDrop: () => void): () => void {
  const source = new EventSource('/api/v1/alerts/stream')
  source.onerror = onDrop
  for (const kind of EVENTS) {
    source.addEventListener(kind, (message) => onEvent(kind, JSON.parse((message as MessageEvent).data)))
  }
  return () => source.close()
}
