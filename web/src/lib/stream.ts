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
// session, and EventSource cannot tell a 401 from a network fault). Every watcher of a page (the shell's 待办 badge
// and red-light notice, the dashboard) shares one connection, opened by the first and closed with the last.

interface Watcher {
  onEvent: (kind: string, event: AlertEvent) => void
  onDrop: () => void
}

const watchers = new Set<Watcher>()
let source: EventSource | null = null

function open(): EventSource {
  const stream = new EventSource('/api/v1/alerts/stream')
  stream.onerror = () => watchers.forEach((w) => w.onDrop())
  for (const kind of EVENTS) {
    stream.addEventListener(kind, (message) => {
      const event = JSON.parse((message as MessageEvent).data)
      watchers.forEach((w) => w.onEvent(kind, event))
    })
  }
  return stream
}

export function watchAlerts(onEvent: (kind: string, event: AlertEvent) => void, onDrop: () => void): () => void {
  const watcher = { onEvent, onDrop }
  watchers.add(watcher)
  source ??= open()
  return () => {
    watchers.delete(watcher)
    if (watchers.size === 0) {
      source?.close()
      source = null
    }
  }
}
