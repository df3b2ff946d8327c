// 待办: what waits for the signed-in person, each kind only when the access table lets them act on it.

import { reactive } from 'vue'
import { everything } from './api'
import { filingsOf, type GoalFilings } from './performance'
import { can, platformYear } from './session'

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

// A bell clears or escalates by itself; a person acts on a yellow (核实) or red (纠正) light.
const ACTIONABLE_LEVELS = ['yellow', 'red']

export async function loadTodo(): Promise<TodoItem[]> {
  todo.loading = true
  const items: TodoItem[] = []
  try {
    if (can('POST /api/v1/alerts/{alert_id}/dispositions')) {
      const open = await everything<Alert>('/alerts', { status: 'open' })
      for (const a of open.filter((x) => ACTIONABLE_LEVELS.includes(x.level))) {
        items.push({ kind: '预警处理', title: `${a.rule_number} ${a.rule_name}`, detail: a.level, at: a.step_since ?? a.raised_at,
          link: `/alerts/${a.id}` })
      }
    }
    if (can('POST /api/v1/permission-applications/{application_id}/review')) {
      const waiting = await everything<{ application_id: string; name: string; submitted_at: string }>(
        '/permission-applications', { status: 'submitted' })
      for (const a of waiting) {
        items.push({ kind: '权限申请审核', title: a.name, detail: '', at: a.submitted_at, link: '/applications' })
      }
    }
    if (can('POST /api/v1/exports/{export_id}/cosignature')) {
      const waiting = await everything<{ id: string; purpose: string; requested_at: string }>('/exports',
        { status: 'requested' })
      for (const e of waiting) items.push({ kind: '导出会签', title: e.purpose, detail: '', at: e.requested_at, link: '/exports' })
    }
    // 预算处's review of what goals filed (第十一条(五)): the goals, execution reports, self-evaluations of the year.
    if (can('POST /api/v1/performance-goals/{goal_id}/reviews')) {
      const goals = await everything<GoalFilings & { goal: string }>(
        '/performance-goals', { fiscal_year: platformYear() })
      for (const g of goals) {
        for (const f of filingsOf(g).filter((x) => x.status === 'filed')) {
          const filedAt = g.reports.find((r) => r.report_id === f.filing)?.filed_at ?? ''
          items.push({ kind: '绩效审核', title: `${f.what}：${g.goal}`, detail: '', at: filedAt, link: '/performance' })
        }
      }
    }
    // The treasury's review of rule proposals (附件2), then their approval into force.
    if (can('POST /api/v1/rule-proposals/{proposal_id}/review')) {
      for (const status of ['proposed', 'accepted']) {
        const waiting = await everything<{ number: string; name: string; proposed_at: string }>('/rule-proposals', { status })
        for (const p of waiting) {
          items.push({ kind: status === 'proposed' ? '规则申请审核' : '规则待批准', title: `${p.number} ${p.name}`,
            detail: '', at: p.proposed_at, link: '/rules' })
        }
      }
    }
    // Monthly reports (月报) waiting at the person's step: the bureau's sign-off of the suspicious items, then the
    // poverty office's co-signature (第二十七条); a division's own draft.
    const reportSteps: [string, string, string][] = [
      ['POST /api/v1/monthly-reports/{report_id}/supervision-review', 'consolidated', '月报疑点审核'],
      ['POST /api/v1/monthly-reports/{report_id}/cosignature', 'supervision_reviewed', '月报会签'],
      ['POST /api/v1/monthly-reports/{report_id}/submission', 'draft', '月报待报国库处'],
    ]
    for (const [, status, kind] of reportSteps.filter(([op]) => can(op))) {
      const waiting = await everything<{ report_id: string; kind: string; month: string; updated_at: string }>(
        '/monthly-reports', { status, kind: status === 'draft' ? 'division' : 'city' })
      for (const r of waiting) {
        items.push({ kind, title: `${r.month} ${r.kind === 'city' ? '全市' : ''}月报`, detail: '', at: r.updated_at,
          link: `/reports/${r.report_id}` })
      }
    }
    todo.items = items.sort((a, b) => b.at.localeCompare(a.at))
  } finally {
    todo.loading = false
  }
  return todo.items
}
