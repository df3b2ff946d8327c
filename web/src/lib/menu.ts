// The menu: each entry shows when the access table lets the person use the endpoint its screen is built on.

export interface MenuEntry {
  path: string
  title: string
  icon: string
  needs: string
  // Shown as well to a person with the PII permission (人员查询), whatever the access table says.
  orPii?: boolean
  // Shown as well to a person who may use any of these (a screen of several lists, each shown on its own).
  orNeeds?: string[]
}

export const MENU: MenuEntry[] = [
  { path: '/', title: '首页', icon: 'Monitor', needs: 'GET /api/v1/alerts' },
  { path: '/todo', title: '待办', icon: 'Bell', needs: 'GET /api/v1/alerts' },
  { path: '/alerts', title: '预警', icon: 'Warning', needs: 'GET /api/v1/alerts' },
  { path: '/ledger', title: '总台账', icon: 'Notebook', needs: 'GET /api/v1/ledger' },
  { path: '/payments', title: '支付明细', icon: 'Money', needs: 'GET /api/v1/payments' },
  { path: '/registry', title: '名单', icon: 'User', needs: 'POST /api/v1/registry/poor-population/import', orPii: true },
  { path: '/performance', title: '绩效', icon: 'TrendCharts', needs: 'POST /api/v1/performance-goals/{goal_id}/reviews',
    orNeeds: ['POST /api/v1/performance-goals'] },
  { path: '/rules', title: '规则', icon: 'SetUp', needs: 'POST /api/v1/rules/{rule_id}/backtest' },
  { path: '/reports', title: '月报', icon: 'Document', needs: 'GET /api/v1/monthly-reports' },
  { path: '/rollups', title: '日报', icon: 'Calendar', needs: 'GET /api/v1/rollups' },
  { path: '/exchange', title: '数据交换', icon: 'Connection', needs: 'GET /api/v1/exchange/messages' },
  { path: '/applications', title: '权限申请', icon: 'Stamp', needs: 'POST /api/v1/permission-applications',
    orNeeds: ['POST /api/v1/permission-applications/{application_id}/review'] },
  { path: '/exports', title: '导出', icon: 'Download', needs: 'POST /api/v1/exports' },
  { path: '/admin', title: '管理', icon: 'Setting', needs: 'GET /api/v1/users',
    orNeeds: ['GET /api/v1/audit', 'GET /api/v1/api-keys', 'GET /api/v1/admin/dead-letters/gateway'] },
]

export function menuFor(operations: string[], pii = false): MenuEntry[] {
  return MENU.filter((entry) => operations.includes(entry.needs) || (entry.orPii && pii)
    || (entry.orNeeds ?? []).some((needs) => operations.includes(needs)))
}
