import { describe, expect, it } from 'vitest'
import { flowSankey, flowTree, type FlowNode } from '../src/lib/flow'

const node = (over: Partial<FlowNode>): FlowNode => ({
  indicator_id: 'root', doc_no: '长财农指〔2026〕12号', fund_name: '衔接资金', amount: '1000.00', org_unit: '220100',
  owner_division: 'agriculture', allocated: '0.00', paid: '0.00', refunded: '0.00', available: '1000.00',
  children: [], payments: [], ...over,
})

describe('fund flow', () => {
  it('shows allocations below an indicator and its payments as leaves', () => {
    const child = node({ indicator_id: 'child', org_unit: '220102', amount: '600.00', paid: '100.00', available: '500.00',
      payments: [{ payment_id: 'P1', amount: '100.00', paid_at: '2026-11-09T02:00:00Z' }] })
    const tree = flowTree(node({ allocated: '600.00', available: '400.00', children: [child] }))
    expect(tree.label).toBe('长春市本级 · 农业处 · 长财农指〔2026〕12号')
    expect(tree.detail).toBe('指标 ¥1,000.00，已分配 ¥600.00，已支付 ¥0.00，可用 ¥400.00')
    const [south] = tree.children!
    expect(south.label).toBe('南关区 · 农业处 · 长财农指〔2026〕12号')
    expect(south.children).toEqual([{ id: 'child/P1', label: '支付 P1', detail: '¥100.00' }])
  })
})

describe('fund flow as a Sankey chart', () => {
  it('runs money to allocations, to payees (one node per payee) and to the balance left', () => {
    const child = node({ indicator_id: 'child', org_unit: '220102', amount: '600.00', paid: '300.00', available: '300.00',
      payments: [{ payment_id: 'P1', amount: '100.10', paid_at: '2026-11-09T02:00:00Z' },
        { payment_id: 'P2', amount: '199.90', paid_at: '2026-11-09T03:00:00Z' }] })
    const root = node({ allocated: '600.00', paid: '50.00', available: '350.00', children: [child],
      payments: [{ payment_id: 'P3', amount: '50.00', paid_at: '2026-11-09T04:00:00Z' }] })
    const { nodes, links } = flowSankey(root, { P1: '张三', P2: '张三' })
    expect(links).toEqual([
      { source: 'root', target: 'child', value: 600, amount: '600.00' },
      { source: 'child', target: 'payee:张三', value: 300, amount: '300.00' },
      { source: 'child', target: 'available', value: 300, amount: '300.00' },
      { source: 'root', target: 'payment:P3', value: 50, amount: '50.00' },
      { source: 'root', target: 'available', value: 350, amount: '350.00' },
    ])
    const byName = Object.fromEntries(nodes.map((n) => [n.name, n]))
    expect(byName.child.label).toBe('南关区 · 农业处')
    expect(byName['payment:P3'].label).toBe('支付 P3')
    expect([byName.root.depth, byName.child.depth, byName['payee:张三'].depth, byName.available.depth]).toEqual([0, 1, 2, 2])
  })
})
