import { describe, expect, it } from 'vitest'
import { MESSAGE_KINDS, MESSAGE_STATUSES, resendable } from '../src/lib/exchange'
import { REPORT_STATUSES } from '../src/lib/reports'

describe('exchange and report names', () => {
  it('names message kinds and statuses in Chinese, and resends only the information center’s queue', () => {
    expect(MESSAGE_KINDS.daily_rollup).toBe('日报')
    expect(MESSAGE_STATUSES.refused).toBe('省厅退回')
    expect(REPORT_STATUSES.cosigned).toBe('局脱贫办已会签')
    expect(['pending', 'sent', 'acknowledged', 'refused', 'failed'].filter(resendable)).toEqual(['refused', 'failed'])
  })
})
