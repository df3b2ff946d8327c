// Cursor paging of a list screen: the API gives the next page's cursor only (newest first), so the cursors of the
// pages already seen are kept to go back. The page size is the screen's to change (the Pager's 每页 select); a new
// size starts again from the first page, since a cursor says where a page ends, not which page it is.

import { computed, ref, type Ref } from 'vue'
import type { Page } from './api'

export interface CursorPages<T, P extends Page<T>> {
  rows: Ref<T[]>
  page: Ref<P | null>
  loading: Ref<boolean>
  failure: Ref<string>
  hasPrevious: Ref<boolean>
  hasNext: Ref<boolean>
  /** 1 for the first page; the API counts no pages, so this is the number of pages gone forward. */
  index: Ref<number>
  limit: Ref<number>
  load: () => Promise<void>
  first: () => Promise<void>
  forward: () => Promise<void>
  back: () => Promise<void>
}

export const PAGE_SIZES = [20, 50, 100]

export function useCursorPages<T, P extends Page<T> = Page<T>>(
  fetchPage: (cursor: string | null, limit: number) => Promise<P>,
  options: { limit?: number } = {},
): CursorPages<T, P> {
  const rows = ref<T[]>([]) as Ref<T[]>
  const page = ref<P | null>(null) as Ref<P | null>
  const loading = ref(false)
  const failure = ref('')
  const cursor = ref<string | null>(null)
  const previous = ref<(string | null)[]>([])
  const limit = ref(options.limit ?? PAGE_SIZES[0])

  async function load(): Promise<void> {
    loading.value = true
    try {
      const answer = await fetchPage(cursor.value, limit.value)
      page.value = answer
      rows.value = answer.items
      failure.value = ''
    } catch (error) {
      failure.value = (error as Error).message
    } finally {
      loading.value = false
    }
  }

  function first(): Promise<void> {
    cursor.value = null
    previous.value = []
    return load()
  }

  function forward(): Promise<void> {
    if (!page.value?.next_cursor) return Promise.resolve()
    previous.value.push(cursor.value)
    cursor.value = page.value.next_cursor
    return load()
  }

  function back(): Promise<void> {
    cursor.value = previous.value.pop() ?? null
    return load()
  }

  return {
    rows, page, loading, failure, load, first, forward, back, limit,
    index: computed(() => previous.value.length + 1),
    hasPrevious: computed(() => previous.value.length > 0),
    hasNext: computed(() => Boolean(page.value?.next_cursor)),
  }
}
