import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/lib/api'
import { useForm } from '../src/lib/forms'

const refused = new ApiError({ type: 'https://fundwatch.example/problems/invalid-input', status: 422,
  detail: 'invalid input', errors: [{ field: 'body.indicators.0.weight', message: 'too big' }] })

describe('a form', () => {
  it('does not send while a check found a fault', async () => {
    const form = useForm()
    let sent = false
    await form.submit({ goal: '请填写绩效目标' }, async () => { sent = true })
    expect(sent).toBe(false)
    expect(form.faults.value).toEqual({ goal: '请填写绩效目标' })
  })

  it('puts the server\'s faults on the fields its key function names, and is no longer busy', async () => {
    const form = useForm()
    await form.submit({}, async () => { throw refused }, (field) => (field ?? '').replace('body.', ''))
    expect(form.faults.value).toEqual({ 'indicators.0.weight': '填写有误' })
    expect(form.failure.value).not.toBe('')
    expect(form.busy.value).toBe(false)
  })

  it('lets an error that is not a refusal through', async () => {
    const form = useForm()
    await expect(form.submit({}, async () => { throw new TypeError('network') })).rejects.toThrow('network')
    expect(form.busy.value).toBe(false)
  })
})
