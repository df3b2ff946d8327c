// 绩效: the national three-level frame, a goal's indicators checked as the API checks them (services/performance/
// domain.py: IndicatorTarget and check_weights), the server's fault paths made the form's, and the names shown.

export const FRAME: Record<string, string[]> = {
  产出指标: ['数量指标', '质量指标', '时效指标', '成本指标'],
  效益指标: ['经济效益指标', '社会效益指标', '生态效益指标', '可持续影响指标'],
  满意度指标: ['服务对象满意度指标'],
}

export const COMPARISONS: Record<string, string> = { gte: '≥', lte: '≤', eq: '=', range: '区间', qualitative: '定性' }
export const GRADES: Record<string, string> = { achieved: '达成', partly: '部分达成', not_achieved: '未达成' }
export const FILING_STATUSES: Record<string, string> = { filed: '已报送', accepted: '审核通过', returned: '退回整改' }

export interface IndicatorRow {
  level1: string
  level2: string
  name: string
  comparison: string
  target: string
  target_low: string
  target_high: string
  target_text: string
  unit: string
  weight: string
}

export const blankIndicator = (): IndicatorRow => ({ level1: '产出指标', level2: '数量指标', name: '', comparison: 'gte',
  target: '', target_low: '', target_high: '', target_text: '', unit: '', weight: '' })

const NUMBER = /^-?\d{1,13}(\.\d{1,4})?$/
const cents = (v: string) => Math.round(Number(v) * 10_000)

/** The faults of a goal as the form shows them: keyed `goal`, `indicators` (the whole) and `indicators[n].field`. */
export function checkGoal(goal: string, rows: IndicatorRow[]): Record<string, string> {
  const faults: Record<string, string> = {}
  if (!goal.trim()) faults.goal = '请填写绩效目标'
  else if (goal.trim().length > 4000) faults.goal = '绩效目标不超过4000字'
  if (!rows.length) faults.indicators = '至少设一项绩效指标'
  rows.forEach((row, n) => {
    const at = (field: string, message: string) => { faults[`indicators[${n}].${field}`] ??= message }
    if (!(row.level1 in FRAME)) at('level1', '请选择一级指标')
    else if (!FRAME[row.level1].includes(row.level2)) at('level2', `请选择${row.level1}下的二级指标`)
    if (!row.name.trim()) at('name', '请填写三级指标')
    else if (row.name.trim().length > 200) at('name', '三级指标不超过200字')
    if (rows.slice(0, n).some((r) => r.name.trim() === row.name.trim()) && row.name.trim()) at('name', '三级指标重名')
    if (row.comparison === 'range') {
      if (!NUMBER.test(row.target_low)) at('target_low', '请填写区间下限（数字）')
      if (!NUMBER.test(row.target_high)) at('target_high', '请填写区间上限（数字）')
      if (NUMBER.test(row.target_low) && NUMBER.test(row.target_high) && cents(row.target_low) > cents(row.target_high)) {
        at('target_low', '下限高于上限')
      }
    } else if (row.comparison === 'qualitative') {
      if (!row.target_text.trim()) at('target_text', '请用文字写明目标')
    } else if (!NUMBER.test(row.target)) at('target', '请填写目标值（数字）')
    if (row.unit.length > 20) at('unit', '计量单位不超过20字')
    if (!NUMBER.test(row.weight) || cents(row.weight) <= 0 || cents(row.weight) > 1_000_000) at('weight', '权重为0～100之间的数')
  })
  const total = rows.reduce((sum, r) => sum + (NUMBER.test(r.weight) ? cents(r.weight) : 0), 0)
  if (rows.length && total !== 1_000_000) faults.indicators ??= `权重合计应为100，现为${weightTotal(rows)}`
  if (rows.length && !rows.some((r) => r.level1 === '产出指标')) faults.indicators ??= '至少设一项产出指标'
  return faults
}

export function weightTotal(rows: IndicatorRow[]): string {
  const total = rows.reduce((sum, r) => sum + (NUMBER.test(r.weight) ? cents(r.weight) : 0), 0)
  return String(total / 10_000)
}

/** The indicators as the API takes them: only the target fields of their comparison. */
export function indicatorsBody(rows: IndicatorRow[]): Record<string, string>[] {
  return rows.map((r) => {
    const needs = r.comparison === 'range' ? ['target_low', 'target_high']
      : r.comparison === 'qualitative' ? ['target_text'] : ['target']
    const body: Record<string, string> = { level1: r.level1, level2: r.level2, name: r.name.trim(),
      comparison: r.comparison, unit: r.unit.trim(), weight: r.weight }
    for (const field of needs) body[field] = (r[field as keyof IndicatorRow] as string).trim()
    return body
  })
}

/** A server fault's field as the form keys it: `body.indicators.2.weight` and `indicators[2].weight` alike. */
export function faultKey(field: string | null | undefined): string {
  return (field ?? '').replace(/^body\./, '').replace(/\.(\d+)(?=\.|$)/g, '[$1]')
}

export interface Target { comparison: string; target: string | null; target_low: string | null; target_high: string | null;
  target_text: string | null; unit: string }

export function targetText(i: Target): string {
  if (i.comparison === 'qualitative') return i.target_text ?? ''
  if (i.comparison === 'range') return `${i.target_low}～${i.target_high}${i.unit}`
  return `${COMPARISONS[i.comparison] ?? i.comparison} ${i.target ?? ''}${i.unit}`
}

/** An execution report's period: a month (2026-06), a quarter (2026-Q2) or the mid-year point (2026-H1). */
export function checkPeriod(period: string, fiscalYear: number): string {
  const m = /^(\d{4})-(0[1-9]|1[0-2]|Q[1-4]|H[12])$/.exec(period.trim())
  if (!m) return '报告期填写如 2026-06、2026-Q2 或 2026-H1'
  if (Number(m[1]) !== fiscalYear) return `报告期应在${fiscalYear}年度内`
  return ''
}

/** The actual values of a report or a self-evaluation: a number for a quantitative indicator, a grade otherwise. */
export function checkActuals(indicators: Target[], actuals: string[], every: boolean): Record<string, string> {
  const faults: Record<string, string> = {}
  indicators.forEach((i, n) => {
    const value = (actuals[n] ?? '').trim()
    if (!value) {
      if (every) faults[`actuals[${n}]`] = '自评须填写每项指标的实际值'
    } else if (i.comparison === 'qualitative' ? !(value in GRADES) : !NUMBER.test(value)) {
      faults[`actuals[${n}]`] = i.comparison === 'qualitative' ? '请选择达成情况' : '请填写数字'
    }
  })
  if (!every && !actuals.some((a) => (a ?? '').trim())) faults.actuals = '至少填写一项指标的实际值'
  return faults
}

export interface GoalFilings {
  id: string
  status: string
  review_reasons: string | null
  rectify_by: string | null
  reports: { report_id: string; period: string; status: string; severe_count: number; review_reasons: string | null;
    rectify_by: string | null; filed_at?: string }[]
  evaluation: { total: string; grade: string; status: string; review_reasons: string | null; rectify_by: string | null } | null
}

export interface Filing { filing: string; what: string; status: string; remarks: string }

/** What a goal has filed, each to be reviewed on its own: the goals, every execution report, the self-evaluation. */
export function filingsOf(goal: GoalFilings): Filing[] {
  const remarks = (f: { review_reasons: string | null; rectify_by: string | null }, more = '') => [more,
    f.review_reasons ? `审核意见：${f.review_reasons}` : '', f.rectify_by ? `限 ${f.rectify_by} 前整改` : '']
    .filter(Boolean).join('；')
  return [
    { filing: 'goals', what: '绩效目标', status: goal.status, remarks: remarks(goal) },
    ...goal.reports.map((r) => ({ filing: r.report_id, what: `执行情况 ${r.period}`, status: r.status,
      remarks: remarks(r, r.severe_count ? `${r.severe_count} 项严重偏离` : '') })),
    ...(goal.evaluation ? [{ filing: 'evaluation', what: '绩效自评', status: goal.evaluation.status,
      remarks: remarks(goal.evaluation, `${goal.evaluation.total} 分，${goal.evaluation.grade}`) }] : []),
  ]
}
