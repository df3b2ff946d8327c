import { describe, expect, it } from 'vitest'
import { applicationActions } from '../src/lib/applications'

const OPS = 'POST /api/v1/permission-applications/{application_id}/'
const treasury = { username: 'qian', operations: [`${OPS}review`, `${OPS}feedback`, `${OPS}resubmission`] }
const district = { username: 'zhao', operations: [`${OPS}resubmission`] }

describe('permission application actions', () => {
  it('lets the treasury review and record the province’s answer, and an applicant correct a returned one', () => {
    expect(applicationActions({ status: 'submitted', applicant: 'zhao', kind: 'grant' }, treasury)).toEqual(['review'])
    expect(applicationActions({ status: 'forwarded', applicant: 'zhao', kind: 'grant' }, treasury)).toEqual(['feedback'])
    expect(applicationActions({ status: 'submitted', applicant: 'zhao', kind: 'grant' }, district)).toEqual([])
    expect(applicationActions({ status: 'returned', applicant: 'zhao', kind: 'grant' }, district)).toEqual(['resubmit'])
    expect(applicationActions({ status: 'approved', applicant: 'zhao', kind: 'grant' }, treasury)).toEqual([])
  })

  it('lets an administrator issue the one-time password of an approved 开通 only', () => {
    const admin = { username: 'root', operations: ['POST /api/v1/users'] }
    expect(applicationActions({ status: 'approved', applicant: 'zhao', kind: 'grant' }, admin)).toEqual(['issue'])
    expect(applicationActions({ status: 'approved', applicant: 'zhao', kind: 'change' }, admin)).toEqual([])
    expect(applicationActions({ status: 'approved', applicant: 'zhao', kind: 'grant' }, treasury)).toEqual([])
  })
})
