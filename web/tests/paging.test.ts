import { describe, expect, it } from 'vitest'
import type { Page } from '../src/lib/api'
import { useCursorPages } from '../src/lib/paging'

// Three pages of one row each, reached by cursors "b" and "c".
const PAGES: Record<string, Page<string>> = {
  start: { items: ['a'], next_cursor: 'b' },
  b: { items: ['b'], next_cursor: 'c' },
  c: { items: ['c'], next_cursor: null },
}

describe('cursor paging', () => {
  it('goes forward by the next cursor and back by the cursors already seen', async () => {
    const asked: (string | null)[] = []
    const pages = useCursorPages<string>(async (cursor) => { asked.push(cursor); return PAGES[cursor ?? 'start'] })
    await pages.load()
    expect(pages.rows.value).toEqual(['a'])
    expect(pages.hasPrevious.value).toBe(false)
    await pages.forward()
    await pages.forward()
    expect(pages.rows.value).toEqual(['c'])
    expect(pages.hasNext.value).toBe(false)
    await pages.forward()
    await pages.back()
    expect(pages.rows.value).toEqual(['b'])
    await pages.first()
    expect(pages.rows.value).toEqual(['a'])
    expect(pages.hasPrevious.value).toBe(false)
    expect(asked).toEqual([null, 'b', 'c', 'b', null])
  })

  it('keeps the rows and says what went wrong when a page fails', async () => {
    let fail = false
    const pages = useCursorPages<string>(async (cursor) => {
      if (fail) throw new Error('网络不通')
      return PAGES[cursor ?? 'start']
    })
    await pages.load()
    fail = true
    await pages.forward()
    expect(pages.failure.value).toBe('网络不通')
    expect(pages.rows.value).toEqual(['a'])
    expect(pages.loading.value).toBe(false)
  })

  it('asks for the page size chosen and counts the pages gone forward', async () => {
    const asked: [string | null, number][] = []
    const pages = useCursorPages<string>(async (cursor, limit) => { asked.push([cursor, limit]); return PAGES[cursor ?? 'start'] },
      { limit: 50 })
    await pages.load()
    expect(pages.index.value).toBe(1)
    await pages.forward()
    expect(pages.index.value).toBe(2)
    pages.limit.value = 100
    await pages.first()
    expect(pages.index.value).toBe(1)
    expect(asked).toEqual([[null, 50], ['b', 50], [null, 100]])
  })
})
