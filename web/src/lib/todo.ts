// 待办: what waits for the signed-in person, as the server's inbox (GET /api/v1/inbox) lists it: each kind only
// when the access table lets them act on it, within their scope.

import { reactive } from 'vue'
import { everything } from './api'

export interface Alert {
  id: string
  rule_id: string
  rule_number: string
  rule_name: string
  level: string
  status: string
  subject: Record<string, unknown>
  period: string
  org_unit: string | null
  owner_division: string | null
  explanation: Record<string, unknown>
  raised_at: string
  updated_at: string
  version: number
  waiting_for: string | null
  step_since: string | null
  occurrences: number
}

export interface TodoItem {
  kind: string
  title: string
  detail: string
  at: string
  link: string
}

export const todo = reactive<{ items: TodoItem[]; loading: boolean }>({ items: [], loading: false })

interface InboxItem {
  kind: string
  label: string
  id: string
  title: string
  level: string | null
  at: string
  link: string
}

export async function loadTodo(): Promise<TodoItem[]> {
  todo.loading = true
  try {
    const waiting = await everything<InboxItem>('/inbox')
    todo.items = waiting.map((i) => ({ kind: i.label, title: i.title, detail: i.level ?? '', at: i.at, link: i.link }))
  } finally {
    todo.loading = false
  }
  return todo.items
}
