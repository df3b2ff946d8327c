import { describe, expect, it } from 'vitest'
import { faultText } from '../src/lib/registry'

describe('import faults', () => {
  it('reads the service’s faults of a row in Chinese, and keeps an unknown one as it came', () => {
    expect(faultText({ column: '身份证号', message: 'the check digit should be 7' })).toBe('身份证号不正确（位数、出生日期或校验位有误）')
    expect(faultText({ column: '身份证号', message: 'the same person as line 4' })).toBe('与第 4 行为同一人')
    expect(faultText({ column: '区划', message: "unknown org unit '火星区'" })).toBe('区划不正确（应为本市的区或开发区）')
    expect(faultText({ column: '姓名', message: 'a value is required' })).toBe('此项必填，不能为空')
    expect(faultText({ column: '年度', message: 'expected a year from 2013 to 2027' })).toBe('年度不正确')
    expect(faultText({ column: null, message: 'the file is not CSV or XLSX' })).toBe('the file is not CSV or XLSX')
  })
})
