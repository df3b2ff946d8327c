// Cursor paging of a list screen: the API gives the next page's cursor only (newest first), so the cursors of the
// pages already seen are kept to go back.

import { computed, ref, type Ref } from 'vue'
import type { Page } from './api'

export interface CursorPages<T, P extends Page<T>> {
  rows: Ref<T[]>
  page: Ref<P | null>
  loading: Ref<boolean>
  failure: Ref<string>
  hasPrevious: Ref<boolean>
  hasNext: Ref<boolean>
  load: () => Promise<void>
  first: () => Promise<void>
  forward: () => Promise<void>
  back: () => Promise<void>
}

export function useCursorPages<T, P extends Page<T> = Page<T>>(
  fetchPage: (cursor: string | null) => Promise<P>,
): CursorPages<T, P> {
  const rows = ref<T[]>([]) as Ref<T[]>
  const page = ref<P | null>(null) as Ref<P | null>
  const loading = ref(false)
  const failure = ref('')
  const cursor = ref<string | null>(null)
  const previous = ref<(string | null)[]>([])

  async function load(): Promise<void> {
    loading.value = true
    try {
      const answer = await fetchPage(cursor.value)
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
    rows, page, loading, failure, load, first, forward, back,
    hasPrevious: computed(() => previous.value.length > 0),
    hasNext: computed(() => Boolean(page.value?.next_cursor)),
  }
}
