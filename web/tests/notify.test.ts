import { describe, expect, it } from 'vitest'
import { redLightNotice } from '../src/lib/notify'

describe('red-light notifications', () => {
  it('tell a red light by its rule and where it is', () => {
    expect(redLightNotice('AlertRaised', { alert_id: 'a1', level: 'red', rule_number: 'ZC-001',
      rule_name: '支付金额超过指标可用余额', org_unit: '220102', owner_division: 'agriculture' }))
      .toEqual({ title: '红灯预警：ZC-001 支付金额超过指标可用余额', body: '南关区 · 农业处', tag: 'a1' })
    expect(redLightNotice('AlertRaised', { alert_id: 'a2', level: 'red', rule_number: 'LC-002', org_unit: null,
      owner_division: 'treasury' })?.body).toBe('国库处')
  })

  it('stay silent for other lights and other steps', () => {
    expect(redLightNotice('AlertRaised', { alert_id: 'a3', level: 'yellow' })).toBeNull()
    expect(redLightNotice('AlertTransitioned', { alert_id: 'a1', level: 'red' })).toBeNull()
  })
})
