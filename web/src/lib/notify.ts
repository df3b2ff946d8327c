// Desktop notifications of red lights (待办): asked for on a click (browsers refuse a request made without one), then
// shown for each red alert the alert stream brings; the stream carries only what the person's scope may see.

import { reactive } from 'vue'
import { DIVISIONS, ORG_UNITS, nameOf } from './names'
import type { AlertEvent } from './stream'

const supported = typeof Notification !== 'undefined'

export const notifications = reactive({ permission: supported ? Notification.permission : 'denied' as NotificationPermission })

export async function askToNotify(): Promise<void> {
  if (!supported) return
  notifications.permission = await Notification.requestPermission()
}

/** A red light as a notification says it: the rule, then where. Null for anything else. */
export function redLightNotice(kind: string, event: AlertEvent): { title: string; body: string; tag: string } | null {
  if (kind !== 'AlertRaised' || event.level !== 'red') return null
  const where = [event.org_unit && nameOf(ORG_UNITS, event.org_unit),
    event.owner_division && nameOf(DIVISIONS, event.owner_division)].filter(Boolean).join(' · ')
  return { title: `红灯预警：${[event.rule_number, event.rule_name].filter(Boolean).join(' ')}`, body: where, tag: event.alert_id }
}

export function notifyRedLight(kind: string, event: AlertEvent): void {
  const notice = redLightNotice(kind, event)
  if (!notice || !supported || Notification.permission !== 'granted') return
  // The tag keeps one notification per alert, however many tabs are open.
  new Notification(notice.title, { body: notice.body, tag: notice.tag })
}
