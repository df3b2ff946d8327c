import { describe, expect, it } from 'vitest'
import { reportActions } from '../src/lib/reports'

const me = (username: string, roles: string[], division: string | null = null) => ({ username, roles, division })
const division = { kind: 'division' as const, status: 'draft', division: 'agriculture', prepared_by: 'wang',
  supervised_by: null }
const city = { kind: 'city' as const, status: 'consolidated', division: 'treasury', prepared_by: 'qian',
  supervised_by: null }

describe('monthly report actions', () => {
  it('lets a division write and submit its own draft only', () => {
    expect(reportActions(division, me('wang', ['division'], 'agriculture'))).toEqual(['edit', 'submit'])
    expect(reportActions(division, me('li', ['division'], 'education'))).toEqual([])
    expect(reportActions({ ...division, status: 'submitted' }, me('wang', ['division'], 'agriculture'))).toEqual([])
    expect(reportActions(division, me('qian', ['treasury'], 'treasury'))).toEqual([])
  })

  it('takes the city report through the supervision bureau and the poverty office, never by its preparer', () => {
    expect(reportActions(city, me('qian', ['treasury']))).toEqual(['edit'])
    expect(reportActions(city, me('sun', ['supervision']))).toEqual(['supervision'])
    const reviewed = { ...city, status: 'supervision_reviewed', supervised_by: 'sun' }
    expect(reportActions(reviewed, me('zhou', ['poverty_office']))).toEqual(['cosign'])
    expect(reportActions(reviewed, me('qian', ['treasury', 'poverty_office']))).toEqual([])
    expect(reportActions(reviewed, me('sun', ['supervision', 'poverty_office']))).toEqual([])
    expect(reportActions({ ...city, status: 'returned' }, me('qian', ['treasury']))).toEqual(['revise'])
    expect(reportActions({ ...city, status: 'sent' }, me('qian', ['treasury']))).toEqual([])
  })
})
