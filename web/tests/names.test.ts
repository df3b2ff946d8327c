import { describe, expect, it } from 'vitest'
import { ACTIONS, DISTRICTS, DIVISIONS, LEVELS, ORG_UNITS, nameOf } from '../src/lib/names'
import { lights, topRules } from '../src/lib/dashboard'
import { menuFor } from '../src/lib/menu'
import type { Alert } from '../src/lib/todo'

describe('enum names', () => {
  it('names the lights, divisions and org units as the platform does', () => {
    expect([LEVELS.red, LEVELS.yellow, LEVELS.yellow_bell, LEVELS.green]).toEqual(['红灯', '黄灯', '黄色警铃', '绿灯'])
    expect(nameOf(DIVISIONS, 'agriculture')).toBe('农业处')
    expect(nameOf(ORG_UNITS, '220102')).toBe('南关区')
    expect(nameOf(ACTIONS, 'confirm_violation')).toBe('确认违规')
    expect(nameOf(ORG_UNITS, 'unknown')).toBe('unknown')
    expect(nameOf(ORG_UNITS, null)).toBe('—')
  })

  it('shows a light for every district and 开发区 but not the city itself', () => {
    expect(DISTRICTS).toHaveLength(11)
    expect(DISTRICTS).not.toContain('220100')
  })
})

const alert = (over: Partial<Alert>): Alert => ({
  id: 'a', rule_id: 'r', rule_number: 'ZC-003', rule_name: '现金支付超限额', level: 'yellow', status: 'open', subject: {},
  period: '2026-11', org_unit: '220102', owner_division: 'agriculture', explanation: {}, raised_at: '2026-11-10T01:00:00Z',
  updated_at: '2026-11-10T01:00:00Z', version: 1, waiting_for: 'verification', step_since: '2026-11-10T01:00:00Z',
  occurrences: 1, ...over,
})

describe('dashboard', () => {
  it('lights a district by its worst open alert and counts the overdue', () => {
    const now = new Date('2026-11-24T02:00:00Z')
    const [nanguan, kuancheng] = lights([
      alert({ id: '1', level: 'red' }), alert({ id: '2' }), alert({ id: '3', level: 'yellow_bell', step_since: '2026-11-23T01:00:00Z' }),
      alert({ id: '4', org_unit: '220103', level: 'yellow_bell', status: 'cleared' }),
    ], now, ['220102', '220103'])
    expect(nanguan).toMatchObject({ light: 'red', red: 1, yellow: 1, yellow_bell: 1, open: 3, overdue: 2 })
    expect(kuancheng).toMatchObject({ light: 'green', open: 0 })
  })

  it('ranks the rules that fire most', () => {
    const top = topRules([alert({}), alert({}), alert({ rule_number: 'ZC-001', rule_name: '超指标支付' })])
    expect(top[0]).toEqual({ rule: 'ZC-003 现金支付超限额', count: 2 })
  })
})

describe('menu', () => {
  it('offers a screen only where the access table lets the person use its endpoint', () => {
    const district = menuFor(['GET /api/v1/alerts', 'GET /api/v1/ledger'])
    expect(district.map((m) => m.title)).toEqual(['首页', '待办', '预警', '总台账'])
    expect(menuFor(['GET /api/v1/alerts', 'GET /api/v1/ledger', 'GET /api/v1/payments']).map((m) => m.title))
      .toContain('支付明细')
  })

  it('offers the registries to their keepers and to a person with the PII permission (人员查询)', () => {
    const reading = ['GET /api/v1/alerts']
    expect(menuFor(reading).map((m) => m.title)).not.toContain('名单')
    expect(menuFor(reading, true).map((m) => m.title)).toContain('名单')
    expect(menuFor([...reading, 'POST /api/v1/registry/poor-population/import']).map((m) => m.title)).toContain('名单')
  })

  it('offers 管理 to whoever may use any of its lists', () => {
    expect(menuFor(['GET /api/v1/alerts']).map((m) => m.title)).not.toContain('管理')
    expect(menuFor(['GET /api/v1/admin/dead-letters/gateway']).map((m) => m.title)).toEqual(['管理'])
  })
})

describe('facts', () => {
  it('names the facts an alert shows in Chinese, and keeps a path it does not know', async () => {
    const { factName } = await import('../src/lib/names')
    expect(factName('indicator.available_after')).toBe('指标支付后可用余额')
    expect(factName('payment.amount')).toBe('支付金额')
    expect(factName('something.new')).toBe('something.new')
  })
})
