import { describe, expect, it } from 'vitest'
import { describe as describeProblem, fieldName, problemText, typeName } from '../src/lib/errors'

const BASE = 'https://fundwatch.changchun.gov.cn/problems/'

describe('error catalog', () => {
  it('maps a problem type to Chinese', () => {
    expect(typeName({ type: `${BASE}illegal-transition` })).toBe('illegal-transition')
    expect(problemText({ type: `${BASE}illegal-transition`, status: 409 })).toBe('该预警当前所处环节不能进行此项操作')
    expect(problemText({ type: `${BASE}something-new`, status: 418 })).toBe('操作未完成（418）')
  })

  it('prefers the reason of a refusal', () => {
    expect(problemText({ type: `${BASE}forbidden`, status: 403, reason: 'csrf_token_missing' }))
      .toBe('页面已过期，请刷新后重试')
  })

  it('names each field at fault in Chinese by the last part of its path', () => {
    expect(fieldName('body.violation_type')).toBe('违规类型')
    expect(fieldName('payments.3.amount')).toBe('金额')
    expect(fieldName('payments.3.payee_account')).toBe('payee_account')
    expect(describeProblem({ type: `${BASE}invalid-input`, status: 422,
      errors: [{ field: 'body.findings', message: 'x' }, { field: 'expected_version', message: 'y' }] }))
      .toBe('填写的内容有误，请检查标出的项目（基本情况描述：填写有误；预警版本：填写有误）')
    expect(describeProblem({ type: `${BASE}invalid-input`, status: 422,
      errors: [{ field: 'new_password', message: 'too short' }, { field: 'new_password', message: 'one kind' }] }))
      .toBe('填写的内容有误，请检查标出的项目（新密码：填写有误）')
  })
})
