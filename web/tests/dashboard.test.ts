import { describe, expect, it } from 'vitest'
import { yearProgress } from '../src/lib/dashboard'

describe('序时进度', () => {
  it('is the share of the calendar year gone by at the end of the day, as the platform reckons it', () => {
    expect(yearProgress('2026-01-01')).toBe(0.0027)
    expect(yearProgress('2026-11-10')).toBe(0.8603)  // 314 / 365
    expect(yearProgress('2028-12-31')).toBe(1)
    expect(yearProgress('2028-02-29')).toBe(0.1639)  // a leap year: 60 / 366
  })
})
