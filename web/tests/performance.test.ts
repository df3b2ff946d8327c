import { describe, expect, it } from 'vitest'
import { blankIndicator, checkActuals, checkGoal, checkPeriod, faultKey, filingsOf, indicatorsBody, weightTotal,
  type IndicatorRow } from '../src/lib/performance'

const row = (over: Partial<IndicatorRow>): IndicatorRow => ({ ...blankIndicator(), name: '帮扶农户数', target: '120',
  unit: '户', weight: '60', ...over })

describe('a goal checked as the API checks it', () => {
  it('takes a goal in the three-level frame whose weights add up to 100', () => {
    const rows = [row({}), row({ level1: '满意度指标', level2: '服务对象满意度指标', name: '满意度', comparison: 'range',
      target: '', target_low: '85', target_high: '100', weight: '40' })]
    expect(checkGoal('带动脱贫户增收', rows)).toEqual({})
    expect(weightTotal(rows)).toBe('100')
    expect(indicatorsBody(rows)[1]).toEqual({ level1: '满意度指标', level2: '服务对象满意度指标', name: '满意度',
      comparison: 'range', unit: '户', weight: '40', target_low: '85', target_high: '100' })
  })

  it('names each fault by its row and field', () => {
    const faults = checkGoal(' ', [row({ level2: '社会效益指标', weight: '0.5' }), row({ comparison: 'range', target_low: '9',
      target_high: '3' }), row({ level1: '效益指标', level2: '社会效益指标', name: '', comparison: 'qualitative' })])
    expect(faults).toEqual({
      goal: '请填写绩效目标',
      'indicators[0].level2': '请选择产出指标下的二级指标',
      'indicators[1].name': '三级指标重名',
      'indicators[1].target_low': '下限高于上限',
      'indicators[2].name': '请填写三级指标',
      'indicators[2].target_text': '请用文字写明目标',
      indicators: '权重合计应为100，现为120.5',
    })
  })

  it('wants at least one 产出指标', () => {
    expect(checkGoal('目标', [row({ level1: '效益指标', level2: '经济效益指标', weight: '100' })]).indicators)
      .toBe('至少设一项产出指标')
  })

  it('reads the server fault paths as the form keys them', () => {
    expect(faultKey('body.indicators.2.weight')).toBe('indicators[2].weight')
    expect(faultKey('indicators[1].name')).toBe('indicators[1].name')
    expect(faultKey('body.indicators.0')).toBe('indicators[0]')
  })
})

describe('reports and self-evaluations', () => {
  const targets = [{ comparison: 'gte', target: '120', target_low: null, target_high: null, target_text: null, unit: '户' },
    { comparison: 'qualitative', target: null, target_low: null, target_high: null, target_text: '明显改善', unit: '' }]

  it('checks the period within the goal year', () => {
    expect(checkPeriod('2026-Q2', 2026)).toBe('')
    expect(checkPeriod('2026-H2', 2026)).toBe('')
    expect(checkPeriod('2025-06', 2026)).toBe('报告期应在2026年度内')
    expect(checkPeriod('2026-13', 2026)).toContain('报告期填写如')
  })

  it('takes a number or a grade, and every indicator for a self-evaluation', () => {
    expect(checkActuals(targets, ['130', ''], false)).toEqual({})
    expect(checkActuals(targets, ['', ''], false)).toEqual({ actuals: '至少填写一项指标的实际值' })
    expect(checkActuals(targets, ['多', 'great'], false)).toEqual({ 'actuals[0]': '请填写数字', 'actuals[1]': '请选择达成情况' })
    expect(checkActuals(targets, ['130', ''], true)).toEqual({ 'actuals[1]': '自评须填写每项指标的实际值' })
  })

  it('lists what a goal filed, each with its review', () => {
    const filings = filingsOf({ id: 'g', status: 'accepted', review_reasons: '同意', rectify_by: null,
      reports: [{ report_id: 'g-2026-Q2', period: '2026-Q2', status: 'returned', severe_count: 1, review_reasons: '偏差大',
        rectify_by: '2026-08-31' }],
      evaluation: { total: '92.50', grade: '优', status: 'filed', review_reasons: null, rectify_by: null } })
    expect(filings).toEqual([
      { filing: 'goals', what: '绩效目标', status: 'accepted', remarks: '审核意见：同意' },
      { filing: 'g-2026-Q2', what: '执行情况 2026-Q2', status: 'returned', remarks: '1 项严重偏离；审核意见：偏差大；限 2026-08-31 前整改' },
      { filing: 'evaluation', what: '绩效自评', status: 'filed', remarks: '92.50 分，优' },
    ])
  })
})
