import { describe, expect, it } from 'vitest'
import { beijingDate, beijingTime, money, percent, progressValue, weekdaysBetween } from '../src/lib/format'

describe('money', () => {
  it('writes yuan with thousands separators and two decimals, from the string as given', () => {
    expect(money('1234567.00')).toBe('¥1,234,567.00')
    expect(money('1234567.5')).toBe('¥1,234,567.50')
    expect(money('0.00')).toBe('¥0.00')
    expect(money('-2000.00')).toBe('-¥2,000.00')
    expect(money('12345678901234567.89')).toBe('¥12,345,678,901,234,567.89')
    expect(money(null)).toBe('—')
  })
})

describe('Beijing time', () => {
  it('shows an instant in Asia/Shanghai whatever the browser zone', () => {
    expect(beijingTime('2026-11-10T01:30:00Z')).toBe('2026-11-10 09:30')
    expect(beijingDate('2026-11-10T16:30:00Z')).toBe('2026-11-11')
  })

  it('counts Monday to Friday between two instants', () => {
    // Friday 2026-11-06 to Tuesday 2026-11-10: Friday and Monday.
    expect(weekdaysBetween('2026-11-06T02:00:00Z', '2026-11-10T02:00:00Z')).toBe(2)
    expect(weekdaysBetween('2026-11-10T02:00:00Z', '2026-11-10T08:00:00Z')).toBe(0)
  })
})

describe('progress', () => {
  it('turns a fraction into a bounded percentage', () => {
    expect(percent('0.4567')).toBe('45.67%')
    expect(progressValue('1.2')).toBe(100)
    expect(progressValue('0.12345')).toBe(12.35)
    expect(progressValue('x')).toBe(0)
  })
})
