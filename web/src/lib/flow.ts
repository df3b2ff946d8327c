// The fund flow (穿透) of an indicator as a tree to show: each indicator node with its org unit, division and money,
// and under it the allocations it passed on and the payments made on it (the leaves, down to the payees).

import { money } from './format'
import { DIVISIONS, ORG_UNITS, nameOf } from './names'

export interface FlowNode {
  indicator_id: string
  doc_no: string
  fund_name: string
  amount: string
  org_unit: string
  owner_division: string
  allocated: string
  paid: string
  refunded: string
  available: string
  children: FlowNode[]
  payments: { payment_id: string; amount: string; paid_at: string }[]
}

export interface TreeItem {
  id: string
  label: string
  detail: string
  indicator?: string
  children?: TreeItem[]
}

export function flowTree(node: FlowNode): TreeItem {
  return {
    id: node.indicator_id,
    indicator: node.indicator_id,
    label: `${nameOf(ORG_UNITS, node.org_unit)} · ${nameOf(DIVISIONS, node.owner_division)} · ${node.doc_no}`,
    detail: `指标 ${money(node.amount)}，已分配 ${money(node.allocated)}，已支付 ${money(node.paid)}，`
      + `可用 ${money(node.available)}`,
    children: [
      ...node.children.map(flowTree),
      ...node.payments.map((p) => ({ id: `${node.indicator_id}/${p.payment_id}`, label: `支付 ${p.payment_id}`,
        detail: money(p.amount) })),
    ],
  }
}
