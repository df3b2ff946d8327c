// One form's state and its sending, the same for every form of the console: the faults found before sending and
// those the server names (each on its field), the failure message, and busy while the request is out.

import { ref } from 'vue'
import { ApiError } from './api'

export function useForm() {
  const faults = ref<Record<string, string>>({})
  const failure = ref('')
  const busy = ref(false)

  function reset(): void {
    faults.value = {}
    failure.value = ''
  }

  /** Sends unless `found` names a fault; a refusal's faults land where `keyOf` puts each field the server names. */
  async function submit(found: Record<string, string>, send: () => Promise<void>,
    keyOf: (field: string | null) => string = (field) => field ?? ''): Promise<void> {
    faults.value = found
    failure.value = ''
    if (Object.keys(found).length) return
    busy.value = true
    try {
      await send()
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      for (const f of error.problem.errors ?? []) faults.value[keyOf(f.field)] ??= '填写有误'
      failure.value = error.message
    } finally {
      busy.value = false
    }
  }

  return { faults, failure, busy, reset, submit }
}
