import { describe, expect, it } from 'vitest'
import { checkProposal, checkRequirement, proposalDefinition, proposalForm, ruleFaultKey } from '../src/lib/rules'

const ZC001 = { id: 'spending.payment_exceeds_available', number: 'ZC-001', name: '支付金额超过指标可用余额', category: '支出管理',
  level: 'red', kind: 'event', description: '超指标支付', basis: '预算法第十三条', scope: ['*'], handler: '主管处室',
  national: true, parameters: { tolerance: '0.00' }, on: ['payments.PaymentRecorded'], subject: 'payment',
  when: 'indicator.available_after < -params.tolerance', summary: '支付 {payment.payment_id}', values: ['payment.amount'] }

describe('a rule proposal (附件2)', () => {
  it('amends a rule in force keeping its id and the parts the form does not show', () => {
    const form = proposalForm(2027, ZC001)
    form.description = '超指标支付（含零余额账户）'
    expect(checkProposal(form, 2026, ZC001)).toEqual({})
    const definition = proposalDefinition(form, ZC001)
    expect(definition).toMatchObject({ id: ZC001.id, national: true, parameters: { tolerance: '0.00' },
      values: ['payment.amount'], description: '超指标支付（含零余额账户）' })
  })

  it('drafts a new rule from one in force under an id of its own, never national', () => {
    const form = { ...proposalForm(2027, ZC001), amends: false, number: 'ZC-101', level: 'yellow' }
    expect(checkProposal(form, 2026, ZC001)).toEqual({})
    expect(proposalDefinition(form, ZC001)).toMatchObject({ id: 'local.zc-101', number: 'ZC-101', national: false,
      level: 'yellow' })
  })

  it('names each fault: a past year, a national level changed, what is missing', () => {
    const form = { ...proposalForm(2026, ZC001), level: 'yellow', name: ' ', when: '' }
    expect(checkProposal(form, 2026, ZC001)).toEqual({
      fiscal_year: '须为2027年及以后', name: '请填写规则名称', when: '请填写判断条件',
      level: '国家规定的规则级别不能调整（第二十条）' })
  })

  it('reads the server fault paths as the form keys them', () => {
    expect(ruleFaultKey('body.definition.level')).toBe('level')
    expect(ruleFaultKey('definition.values[2]')).toBe('values')
    expect(ruleFaultKey('body.scope.0')).toBe('scope')
  })
})

describe('a business requirement (附件1)', () => {
  it('wants a kind, a description, a basis and a scope', () => {
    expect(checkRequirement({ fiscal_year: 2027, kind: '资金支付', description: '现金支付超限提醒', basis: '第十五条',
      scope: ['*'], contact: '' })).toEqual({})
    expect(checkRequirement({ fiscal_year: 2027, kind: '其它', description: '', basis: ' ', scope: [], contact: '' }))
      .toEqual({ kind: '请选择业务需求类型', description: '请填写业务需求描述', basis: '请填写依据', scope: '请选择适用范围' })
  })
})
