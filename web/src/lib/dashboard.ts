// The dashboard's arithmetic, without I/O: lights per district, alerts per day, the rules that fire most.

import { DISTRICTS } from './names'
import { beijingDate, weekdaysBetween } from './format'
import type { Alert } from './todo'

// An open alert waiting at its step longer than this many working days counts as overdue (逾期): the seed's
// working-day limit (第二十六条(一): 5个工作日), since the seed sets none for handling an alert.
export const OVERDUE_WORKING_DAYS = 5

export interface DistrictLight {
  org_unit: string
  light: 'red' | 'yellow' | 'yellow_bell' | 'green'
  red: number
  yellow: number
  yellow_bell: number
  open: number
  overdue: number
}

export function lights(openAlerts: Alert[], now: Date, districts: string[] = DISTRICTS): DistrictLight[] {
  return districts.map((org_unit) => {
    const mine = openAlerts.filter((a) => a.org_unit === org_unit && a.status === 'open')
    const count = (level: string) => mine.filter((a) => a.level === level).length
    const red = count('red'), yellow = count('yellow'), yellow_bell = count('yellow_bell')
    const overdue = mine.filter((a) => weekdaysBetween(a.step_since ?? a.raised_at, now) > OVERDUE_WORKING_DAYS).length
    const light = red ? 'red' : yellow ? 'yellow' : yellow_bell ? 'yellow_bell' : 'green'
    return { org_unit, light, red, yellow, yellow_bell, open: mine.length, overdue }
  })
}

export function perDay(alerts: Alert[], days: string[]): number[] {
  const counts = new Map<string, number>()
  for (const a of alerts) counts.set(beijingDate(a.raised_at), (counts.get(beijingDate(a.raised_at)) ?? 0) + 1)
  return days.map((d) => counts.get(d) ?? 0)
}

export function lastDays(now: Date, n: number): string[] {
  return Array.from({ length: n }, (_, i) => beijingDate(new Date(now.getTime() - (n - 1 - i) * 86400000)))
}

/** 序时进度 of a day (YYYY-MM-DD, Beijing): the share of its calendar year gone by at the day's end, to four places,
 * as the platform reckons it (backbone.workdays.year_progress). */
export function yearProgress(day: string): number {
  const [y, m, d] = day.split('-').map(Number)
  const start = Date.UTC(y, 0, 1)
  const gone = (Date.UTC(y, m - 1, d) - start) / 86_400_000 + 1
  const days = (Date.UTC(y + 1, 0, 1) - start) / 86_400_000
  return Math.round((gone / days) * 10_000) / 10_000
}

export function topRules(alerts: Alert[], n = 5): { rule: string; count: number }[] {
  const counts = new Map<string, number>()
  for (const a of alerts) {
    const key = `${a.rule_number} ${a.rule_name}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts.entries()].map(([rule, count]) => ({ rule, count }))
    .sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule)).slice(0, n)
}
