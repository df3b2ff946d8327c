// The console by keyboard alone (1366×768, Tab / Enter / arrows / Esc): Element Plus's vertical menu leaves its items
// out of the Tab order (tabindex -1; only its horizontal menu handles keys), and a table row that opens something on
// a click is no stop for Tab. Both are made keyboard stops here; dialogs and message boxes already close with Esc.

/** The menu as one Tab stop (the active entry), arrows moving between entries, Enter or Space opening one. */
export function keyboardMenu(root: HTMLElement): () => void {
  const items = () => [...root.querySelectorAll<HTMLElement>('[role=menuitem]')]
  const rove = (current?: HTMLElement) => {
    const all = items()
    const stop = current ?? all.find((i) => i.classList.contains('is-active')) ?? all[0]
    for (const item of all) item.tabIndex = item === stop ? 0 : -1
  }
  const onKey = (event: KeyboardEvent) => {
    const all = items()
    const at = all.indexOf(event.target as HTMLElement)
    if (at < 0) return
    const next = { ArrowDown: (at + 1) % all.length, ArrowUp: (at - 1 + all.length) % all.length, Home: 0,
      End: all.length - 1 }[event.key]
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault()
      all[at].click()
    } else if (next !== undefined) {
      event.preventDefault()
      rove(all[next])
      all[next].focus()
    }
  }
  // Entries come and go with the person's screens, and the active one moves with the route.
  const observer = new MutationObserver(() => { if (!root.contains(document.activeElement)) rove() })
  observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] })
  root.addEventListener('keydown', onKey)
  rove()
  return () => {
    observer.disconnect()
    root.removeEventListener('keydown', onKey)
  }
}

/** A table whose rows open something on a click (class `clickable`): each row a Tab stop, Enter opening it. */
export const rowKeys = {
  mounted(root: HTMLElement & { rowKeysStop?: () => void }): void {
    const mark = () => {
      for (const row of root.querySelectorAll<HTMLElement>('tbody tr.clickable')) if (row.tabIndex !== 0) row.tabIndex = 0
    }
    const onKey = (event: KeyboardEvent) => {
      const row = event.target as HTMLElement
      if (event.key === 'Enter' && row.matches('tr.clickable')) {
        event.preventDefault()
        row.click()
      }
    }
    const observer = new MutationObserver(mark)
    observer.observe(root, { subtree: true, childList: true })
    root.addEventListener('keydown', onKey)
    mark()
    root.rowKeysStop = () => {
      observer.disconnect()
      root.removeEventListener('keydown', onKey)
    }
  },
  unmounted(root: HTMLElement & { rowKeysStop?: () => void }): void {
    root.rowKeysStop?.()
  },
}
