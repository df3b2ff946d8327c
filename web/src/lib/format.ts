// How the console writes amounts, times and progress: ¥1,234,567.00, Beijing time, 45.6%.

const BEIJING = 'Asia/Shanghai'

// Amounts arrive as decimal strings ("1234567.00"); they are written from the string, never through a float,
// so a figure of the ledger is shown to the fen exactly as the server keeps it.
export function money(amount: string | number | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—'
  const text = typeof amount === 'number' ? amount.toFixed(2) : amount.trim()
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text)
  if (!match) return text
  const [, sign, whole, fraction = ''] = match
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${sign}¥${grouped}.${fraction.padEnd(2, '0')}`
}

function parts(value: string | Date): Record<string, string> {
  const date = typeof value === 'string' ? new Date(value) : value
  const found: Record<string, string> = {}
  for (const part of new Intl.DateTimeFormat('en-GB', {
    timeZone: BEIJING, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: '2-digit', hourCycle: 'h23',
  }).formatToParts(date)) {
    found[part.type] = part.value
  }
  return found
}

export function beijingTime(value: string | Date | null | undefined): string {
  if (!value) return '—'
  const p = parts(value)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

export function beijingDate(value: string | Date | null | undefined): string {
  if (!value) return '—'
  const p = parts(value)
  return `${p.year}-${p.month}-${p.day}`
}

// Progress comes as a decimal fraction string ("0.4567") or a percentage; shown as 45.67%.
export function percent(fraction: string | number | null | undefined): string {
  if (fraction === null || fraction === undefined || fraction === '') return '—'
  const value = Number(fraction)
  if (!Number.isFinite(value)) return '—'
  return `${(value * 100).toFixed(2)}%`
}

export function progressValue(fraction: string | number | null | undefined): number {
  const value = Number(fraction ?? 0)
  if (!Number.isFinite(value)) return 0
  return Math.max(0, Math.min(100, Math.round(value * 10000) / 100))
}

// Working days between two instants, Monday to Friday in Beijing: the dashboard's rough count of how long an
// alert has waited (the service's history gives the exact count with holidays and 调休).
export function weekdaysBetween(from: string | Date, to: string | Date): number {
  const start = new Date(`${beijingDate(from)}T00:00:00+08:00`)
  const end = new Date(`${beijingDate(to)}T00:00:00+08:00`)
  let days = 0
  for (let d = new Date(start); d < end; d.setUTCDate(d.getUTCDate() + 1)) {
    const weekday = new Date(d.getTime() + 8 * 3600 * 1000).getUTCDay()
    if (weekday !== 0 && weekday !== 6) days += 1
  }
  return days
}
