import { describe, expect, it } from 'vitest'
import { applicationActions } from '../src/lib/applications'

const OPS = 'POST /api/v1/permission-applications/{application_id}/'
const treasury = { username: 'qian', operations: [`${OPS}review`, `${OPS}feedback`, `${OPS}resubmission`] }
const district = { username: 'zhao', operations: [`${OPS}resubmission`] }

describe('permission application actions', () => {
  it('lets the treasury review and record the province’s answer, and an applicant correct a returned one', () => {
    expect(applicationActions({ status: 'submitted', applicant: 'zhao' }, treasury)).toEqual(['review'])
    expect(applicationActions({ status: 'forwarded', applicant: 'zhao' }, treasury)).toEqual(['feedback'])
    expect(applicationActions({ status: 'submitted', applicant: 'zhao' }, district)).toEqual([])
    expect(applicationActions({ status: 'returned', applicant: 'zhao' }, district)).toEqual(['resubmit'])
    expect(applicationActions({ status: 'approved', applicant: 'zhao' }, treasury)).toEqual([])
  })
})
