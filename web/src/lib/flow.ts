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

export interface SankeyNode { name: string; label: string; detail: string; depth: number }
export interface SankeyLink { source: string; target: string; value: number; amount: string }

const AVAILABLE = 'available'

/** The same flow as a Sankey chart: money runs from each indicator to the allocations below it and to the payees
 * paid from it; what is still available runs into one 可用余额 node, so that every band is as wide as its money.
 * `payees` names a payment's payee (by payment id) where the person may read payments; a payee paid from two
 * indicators is one node. Node names are ids (labels repeat: two allocations to one district read alike). */
export function flowSankey(root: FlowNode, payees: Record<string, string> = {}): { nodes: SankeyNode[]; links: SankeyLink[] } {
  const nodes = new Map<string, SankeyNode>()
  const links = new Map<string, SankeyLink>()
  const cents = (amount: string) => Math.round(Number(amount) * 100)
  const link = (source: string, target: string, amount: string) => {
    const key = `${source}→${target}`
    const had = links.get(key)
    const total = (had ? cents(had.amount) : 0) + cents(amount)
    links.set(key, { source, target, value: total / 100, amount: (total / 100).toFixed(2) })
  }
  const walk = (node: FlowNode, depth: number) => {
    nodes.set(node.indicator_id, { name: node.indicator_id, depth,
      label: `${nameOf(ORG_UNITS, node.org_unit)} · ${nameOf(DIVISIONS, node.owner_division)}`,
      detail: `${node.doc_no}，指标 ${money(node.amount)}` })
    for (const child of node.children) {
      link(node.indicator_id, child.indicator_id, child.amount)
      walk(child, depth + 1)
    }
    for (const p of node.payments) {
      const payee = payees[p.payment_id]
      const id = payee ? `payee:${payee}` : `payment:${p.payment_id}`
      if (!nodes.has(id)) nodes.set(id, { name: id, depth: -1, label: payee ?? `支付 ${p.payment_id}`, detail: '收款方' })
      link(node.indicator_id, id, p.amount)
    }
    if (cents(node.available) > 0) {
      if (!nodes.has(AVAILABLE)) nodes.set(AVAILABLE, { name: AVAILABLE, depth: -1, label: '可用余额', detail: '尚未分配或支付' })
      link(node.indicator_id, AVAILABLE, node.available)
    }
  }
  walk(root, 0)
  // Payees and the balance stand in the last column, whatever level they were paid from.
  const last = Math.max(...[...nodes.values()].map((n) => n.depth)) + 1
  for (const n of nodes.values()) if (n.depth < 0) n.depth = last
  return { nodes: [...nodes.values()], links: [...links.values()] }
}
